"""Cases (ärenden): the handling of an incident, one or more per incident."""
