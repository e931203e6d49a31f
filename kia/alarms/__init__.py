"""Alarms (the Cosafe side): raised for a unit, pushed at once to its staff, answered by a roll call, ended with
"all clear" – and then filed as a KIA event, so the after-work runs through the case it opens."""
