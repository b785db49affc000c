"""Helpdesk text that reads like the real thing: subjects, descriptions and replies built from a
support team's vocabulary, with host names, error codes and people that make full-text search
selective the way it is on a real desk."""

from __future__ import annotations

import random

THINGS = [
    "printer",
    "VPN",
    "laptop",
    "mailbox",
    "Outlook",
    "Teams",
    "Wi-Fi",
    "badge reader",
    "monitor",
    "docking station",
    "SAP",
    "payroll app",
    "CRM",
    "shared drive",
    "password",
    "MFA token",
    "desk phone",
    "scanner",
    "projector",
    "database",
    "backup job",
    "web shop",
    "invoice portal",
    "SSO login",
    "Excel",
    "Jira",
    "build server",
    "firewall rule",
    "DNS",
    "TLS certificate",
    "calendar",
    "headset",
    "keyboard",
    "file server",
    "ERP",
    "time tracking",
    "intranet",
    "label printer",
    "barcode scanner",
    "conference room display",
]
PROBLEMS = [
    "not working",
    "very slow",
    "keeps disconnecting",
    "shows an error",
    "cannot log in",
    "crashes on start",
    "missing after update",
    "locked out",
    "out of toner",
    "no signal",
    "sync fails",
    "access denied",
    "needs replacement",
    "request for access",
    "license expired",
    "freezes",
    "prints blank pages",
    "wrong permissions",
    "not reachable",
    "times out",
]
SITES = [
    "Berlin office",
    "Hamburg warehouse",
    "Lisbon branch",
    "Vienna HQ",
    "Lyon plant",
    "Warsaw office",
    "Madrid store",
    "Oslo lab",
    "Zurich office",
    "Prague depot",
    "Milan studio",
    "Dublin call center",
    "Ghent office",
    "Tallinn hub",
    "Porto branch",
    "Turin plant",
]
FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elena",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Katrin",
    "Lukas",
    "Maria",
    "Nils",
    "Olga",
    "Paul",
    "Quentin",
    "Rosa",
    "Sven",
    "Tina",
    "Ugo",
    "Vera",
    "Willem",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bianca",
    "Carlos",
    "Dana",
    "Emil",
    "Fatima",
]
LAST = [
    "Schmidt",
    "Novak",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Silva",
    "Jensen",
    "Horvat",
    "Meyer",
    "Garcia",
    "Leclerc",
    "Nowak",
    "Ferreira",
    "Berg",
    "Costa",
    "Weber",
    "Moreau",
    "Janssen",
    "Bauer",
    "Lindqvist",
    "Romano",
    "Keller",
    "Popescu",
    "Varga",
    "Olsen",
    "Fischer",
]
WHEN = [
    "this morning",
    "yesterday afternoon",
    "the update on Monday",
    "last week",
    "about an hour ago",
    "the power cut",
    "the move to the new floor",
    "the password change",
    "the weekend",
]
TRIED = [
    "restarting the machine",
    "logging out and in again",
    "a different cable",
    "clearing the browser cache",
    "another user account",
    "the web version",
    "reinstalling the client",
    "a colleague's laptop",
    "switching to the guest network",
]
IMPACT = [
    "the month-end closing",
    "all shipping labels for today",
    "the customer demo at 3 pm",
    "payroll for the whole site",
    "our team of 12",
    "the night shift",
    "invoicing",
    "the audit next week",
    "nothing urgent, but it is annoying",
]
ERRORS = [
    "connection reset by peer",
    "certificate has expired",
    "access is denied",
    "the RPC server is unavailable",
    "disk quota exceeded",
    "authentication failed",
    "the network path was not found",
    "the operation timed out",
    "license server not responding",
    "unexpected token in JSON",
]
CUSTOMER_REPLIES = [
    "Thanks, that worked.",
    "It happened again just now.",
    "I tried that but the problem is still there.",
    "Attached a screenshot of the error.",
    "Can someone call me? I am at my desk until 5.",
    "Any update on this? The team is waiting.",
    "Please also check the second machine in the same room.",
    "It works from home but not in the office.",
    "The error message changed after the restart.",
    "We can test again tomorrow morning.",
    "Good news: it is working again since lunch.",
    "I am out of office tomorrow, my colleague will answer.",
]
STAFF_REPLIES = [
    "Thanks for the details, I am looking into it now.",
    "Could you please send the exact error message and the time it happened?",
    "I pushed a fix to your machine, please restart and tell me if it helps.",
    "We have a known issue with this version; a patch is planned for tonight.",
    "Your access has been granted, it can take up to 15 minutes to apply.",
    "I replaced the certificate on the server, please try again.",
    "A technician will come by this afternoon.",
    "Please try the steps in the attached guide and let me know.",
    "The account was unlocked; please set a new password at the next sign-in.",
    "We reset the sync profile; your data is safe on the server.",
    "Closing the loop: the root cause was a full disk on the print server.",
    "I escalated this to the network team.",
]
INTERNAL_NOTES = [
    "Checked the logs, same pattern as last month's outage.",
    "Customer is on the old client version, needs the upgrade package.",
    "Waiting for the vendor; case number in the team channel.",
    "Do not reset the password again, the account is flagged.",
    "Duplicate of an older ticket from the same site, linked internally.",
    "Root cause is the firewall change from Tuesday, rollback planned.",
    "Hardware swap approved by the manager.",
    "Could not reproduce in the lab; asked for remote session.",
]
RESOLUTIONS = [
    "Reinstalled the client and restored the profile.",
    "Replaced the faulty device.",
    "Granted the missing permission.",
    "Renewed the certificate on the server.",
    "Cleared the print queue and updated the driver.",
    "Unlocked the account and reset MFA.",
]
ROOT_CAUSES = [
    "Outdated client version.",
    "Hardware failure.",
    "Permission missing after the reorganisation.",
    "Expired certificate.",
    "Corrupt driver after an update.",
    "Account locked after too many attempts.",
]
CATEGORIES = ["hardware", "software", "network", "access", "email", "printing", "request"]


class Text:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def host(self) -> str:
        return f"ws-{self.rng.randrange(10_000):04d}"

    def error(self) -> str:
        return f"ERR-{self.rng.randrange(1000, 10_000)}"

    def title(self) -> str:
        r = self.rng
        base = f"{r.choice(THINGS).capitalize()} {r.choice(PROBLEMS)}"
        pick = r.random()
        if pick < 0.3:
            return f"{base} on {self.host()}"
        if pick < 0.55:
            return f"{base} in {r.choice(SITES)}"
        if pick < 0.7:
            return f"{base} for {self.person()}"
        return base

    def description(self) -> str:
        r = self.rng
        thing = r.choice(THINGS)
        parts = [
            f"Since {r.choice(WHEN)} the {thing} is {r.choice(PROBLEMS)} for "
            f"{r.randint(1, 40)} people in the {r.choice(SITES)}."
        ]
        if r.random() < 0.6:
            parts.append(f'The message says "{r.choice(ERRORS)}" (code {self.error()}).')
        if r.random() < 0.7:
            parts.append(f"Affected machine: {self.host()}, user {self.person()}.")
        if r.random() < 0.5:
            parts.append(f"We already tried {r.choice(TRIED)}.")
        parts.append(f"This blocks {r.choice(IMPACT)}.")
        if r.random() < 0.3:
            parts.append(f"Please call back on extension {r.randint(100, 9999)}.")
        return " ".join(parts)

    def reply(self, *, staff: bool, internal: bool) -> str:
        r = self.rng
        pool = INTERNAL_NOTES if internal else STAFF_REPLIES if staff else CUSTOMER_REPLIES
        body = r.choice(pool)
        if r.random() < 0.4:
            body += " " + r.choice(pool)
        if r.random() < 0.15:
            body += f" Seen on {self.host()} as well."
        return body
