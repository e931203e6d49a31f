"""Display names of the case vocabulary (states, milestones, persons, checklist, categories, deadline starts),
translated where shown."""
from __future__ import annotations

from kia.cases.models import ActionStatus, CaseState, MilestoneKind
from kia.deadlines.models import DeadlineStart
from kia.errors import N_
from kia.incidents.models import Category
from kia.orgs.models import Role

# Marked with N_ so `make messages` extracts them; templates translate them with _() in the reader's language.
STATES = {
    CaseState.RECEIVED: N_("Received"), CaseState.ACKNOWLEDGED: N_("Acknowledged"),
    CaseState.INVESTIGATING: N_("Investigating"), CaseState.ACTIONS: N_("Actions"),
    CaseState.FOLLOW_UP: N_("Follow-up"), CaseState.CLOSED: N_("Closed"), CaseState.REJECTED: N_("Rejected"),
}
# The button that moves a case to the state (a verb, where the state's name is an adjective).
MOVES = {
    CaseState.ACKNOWLEDGED: N_("Acknowledge"), CaseState.INVESTIGATING: N_("Start investigating"),
    CaseState.ACTIONS: N_("Move to actions"), CaseState.FOLLOW_UP: N_("Move to follow-up"),
    CaseState.CLOSED: N_("Close the case"), CaseState.REJECTED: N_("Reject the case"),
    CaseState.RECEIVED: N_("Back to received"),
}
MILESTONES = {
    MilestoneKind.PRINCIPAL_NOTIFIED: N_("Principal (rektor) notified"),
    MilestoneKind.PRINCIPAL_ORG_NOTIFIED: N_("Principal organiser (huvudman) notified"),
    MilestoneKind.INVESTIGATION_STARTED: N_("Investigation started"),
    MilestoneKind.REPORTED_TO_AV: N_("Reported to Arbetsmiljöverket"),
    MilestoneKind.REPORTED_TO_FK: N_("Reported to Försäkringskassan"),
    MilestoneKind.REPORTED_TO_IMY: N_("Reported to IMY"),
    MilestoneKind.POLICE_REPORT_MADE: N_("Police report made"),
    MilestoneKind.PROPERTY_OWNER_NOTIFIED: N_("Property owner notified"),
    MilestoneKind.GUARDIANS_INFORMED: N_("Guardians informed"),
    MilestoneKind.SUPPORT_OFFERED: N_("Support offered"),
}
CATEGORIES = {Category.WORK_ENVIRONMENT: N_("Work environment"), Category.PUPIL: N_("Pupils"),
              Category.SAFETY: N_("Safety"), Category.INFORMATION_SECURITY: N_("Information security")}
# Where a deadline rule's time starts.
STARTS = {
    DeadlineStart.OCCURRED_AT: N_("When the event happened"),
    DeadlineStart.KNOWN_AT: N_("When the school learned of it"),
    DeadlineStart.REPORTED_AT: N_("When it was reported in KIA"),
    DeadlineStart.FIELD: N_("At a date or time given in the report (a field of the event type)"),
    DeadlineStart.MILESTONE: N_("When a milestone is recorded"),
}
ACTION_STATUSES = {ActionStatus.PLANNED: N_("Planned"), ActionStatus.DONE: N_("Done"),
                   ActionStatus.CANCELLED: N_("Cancelled")}
ROLES = {Role.REPORTER: N_("Staff member (medarbetare)"), Role.HANDLER: N_("Handler (rektor, chef)"),
         Role.SAFETY_REP: N_("Safety representative (skyddsombud)"),
         Role.SAFETY_OFFICER: N_("Safety officer (säkerhetssamordnare)"),
         Role.PRINCIPAL_ORG: N_("Principal organiser (huvudman)"), Role.ANALYST: N_("Analyst"),
         Role.ADMIN: N_("Administrator"), Role.AUDITOR: N_("Auditor (granskare)"),
         Role.DATA_PROTECTION_OFFICER: N_("Data protection officer (dataskyddsombud)")}
# How a case was opened (kia.cases.read_log.ACTIONS), on the read log's page.
READ_ACTIONS = {"read": N_("Opened the case"), "read_timeline": N_("Read the timeline"),
                "read_comments": N_("Read the comments"),
                "download": N_("Downloaded an attachment"), "reveal_personal_number": N_("Revealed a personal number"),
                "read_messages": N_("Read the messages with the reporter"), "read_incident": N_("Opened the event"),
                "subject_access_search": N_("Registerutdrag search")}
PERSON_ROLES = {"affected": N_("Affected"), "perpetrator": N_("Perpetrator"), "witness": N_("Witness")}
GENDERS = {"female": N_("Female"), "male": N_("Male"), "other": N_("Other"), "unknown": N_("Unknown")}
PERSON_CATEGORIES = {"staff": N_("Staff"), "pupil": N_("Pupil"), "guardian": N_("Guardian"),
                     "visitor": N_("Visitor"), "unknown": N_("Unknown")}
CHECKLIST = {
    "death": N_("Has someone died?"), "serious_injury": N_("Has someone been seriously injured?"),
    "several_hurt": N_("Have several people been hurt at once?"),
    "serious_near_miss": N_("Was it a serious near miss?"), "serious_threat": N_("Was it a serious threat?"),
    "fracture": N_("Fracture"), "heavy_bleeding": N_("Heavy bleeding"), "burn": N_("Burn"),
    "psychological_shock": N_("Psychological shock"), "knife": N_("Knife"), "firearm": N_("Firearm"),
    "serious_death_threat": N_("Serious death threat"),
}
TIMELINE = {
    "state_changed": N_("State changed"), "field_changed": N_("Changed"), "milestone_recorded": N_("Milestone recorded"),
    "action_added": N_("Action added"), "action_updated": N_("Action changed"), "comment_added": N_("Comment written"),
    "attachment_added": N_("File attached"), "delegated": N_("Delegated"), "linked": N_("Linked"),
    "unlinked": N_("Link removed"), "case_created": N_("Case opened"), "created_from": N_("Opened from another case"),
    "related_case_added": N_("Related case added"), "assigned": N_("Assigned to a handler"),
    "assigned_to_substitute": N_("Assigned to the substitute"), "informed": N_("Informed"),
    "reporter_message": N_("Message from the reporter"), "message_to_reporter": N_("Message to the reporter"),
    "escalation": N_("Deadline step"),
    "legal_hold_placed": N_("Held from gallring"), "legal_hold_lifted": N_("Hold from gallring lifted"),
    "fault_report_queued": N_("Fault report to the property owner queued"),
    "fault_report_sent": N_("Fault report received by the property owner"),
    "fault_report_failed": N_("Fault report could not be sent"),
    "fault_report_status": N_("The property owner's status"),
}
# What a property owner says of a fault report (Open311 status).
OWNER_STATUSES = {"open": N_("open at the owner"), "closed": N_("closed by the owner")}
# Why a case is held from gallring (kia.retention.models.HoldReason).
HOLD_REASONS = {"appeal": N_("Appeal (överklagande)"), "police_investigation": N_("Police investigation"),
                "open_request": N_("Open request (registerutdrag, public document)")}
RETENTION_ACTIONS = {"anonymise": N_("Anonymise: personal data erased, counts kept"),
                     "destroy": N_("Destroy: the whole record deleted")}
RUN_STATUSES = {"running": N_("Running"), "finished": N_("Finished"), "failed": N_("Failed")}
SORTS = {"due": N_("Due time"), "-reported": N_("Newest"), "number": N_("Number")}
