"""The SafeLives DASH risk identification checklist (2009): the 24 questions in words.

Core knows the questions by key (``core.rules.DASH_QUESTIONS``, q1..q24) and works out the score
and level; a face shows these words in the reader's language (``translator.gettext``). The
wording follows the SafeLives checklist, asked of the victim, with "the victim" and "the abuser"
in place of "you" and the abuser's name, as a case worker records it.
"""

from __future__ import annotations

from ui.i18n import N_

DASH_QUESTION_TEXT: dict[str, str] = {
    "q1": N_("Has the current incident resulted in injury?"),
    "q2": N_("Is the victim very frightened?"),
    "q3": N_("What is the victim afraid of? Is it further injury or violence?"),
    "q4": N_(
        "Does the victim feel isolated from family or friends: does the abuser try to "
        "stop them seeing friends, family, a doctor or others?"
    ),
    "q5": N_("Is the victim feeling depressed or having suicidal thoughts?"),
    "q6": N_("Has the victim separated or tried to separate from the abuser within the past year?"),
    "q7": N_("Is there conflict over child contact?"),
    "q8": N_("Does the abuser constantly text, call, contact, follow, stalk or harass the victim?"),
    "q9": N_("Is the victim pregnant, or have they had a baby in the last 18 months?"),
    "q10": N_("Is the abuse happening more often?"),
    "q11": N_("Is the abuse getting worse?"),
    "q12": N_(
        "Does the abuser try to control everything the victim does, or are they "
        "excessively jealous?"
    ),
    "q13": N_("Has the abuser ever used weapons or objects to hurt the victim?"),
    "q14": N_(
        "Has the abuser ever threatened to kill the victim or someone else, and the "
        "victim believed them?"
    ),
    "q15": N_("Has the abuser ever attempted to strangle, choke, suffocate or drown the victim?"),
    "q16": N_(
        "Does the abuser do or say things of a sexual nature that make the victim feel "
        "bad or that physically hurt them or someone else?"
    ),
    "q17": N_(
        "Is there any other person who has threatened the victim or whom the victim is afraid of?"
    ),
    "q18": N_("Does the victim know if the abuser has hurt anyone else?"),
    "q19": N_("Has the abuser ever mistreated an animal or the family pet?"),
    "q20": N_(
        "Are there any financial issues: is the victim dependent on the abuser for money, "
        "or has the abuser recently lost their job?"
    ),
    "q21": N_(
        "Has the abuser had problems in the past year with drugs, alcohol or mental "
        "health that made it hard to lead a normal life?"
    ),
    "q22": N_("Has the abuser ever threatened or attempted suicide?"),
    "q23": N_(
        "Has the abuser ever broken bail, an injunction or a formal agreement about when "
        "they can see the victim or the children?"
    ),
    "q24": N_(
        "Does the victim know if the abuser has ever been in trouble with the police or "
        "has a criminal history?"
    ),
}
