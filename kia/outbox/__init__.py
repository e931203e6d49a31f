"""The notification outbox: services queue rows in their own transaction; notifications/ delivers them.

It lives in the domain core because every service writes it and kia/ never imports notifications/.
"""
