"""The org tree (city → administration → department → unit → site), users and their roles on units."""
