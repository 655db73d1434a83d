"""A vetted pattern set for disclosures of danger, with negation and figurative use handled.

Each pattern is a regular expression over one normalised sentence (lower case, straight
apostrophes, single spaces). Patterns are kept to wording that means danger when it is said
literally; what makes the same words ordinary ("we hit a rough patch", "his jokes kill me",
"he has never hit me") is checked before a match counts:

- FIGURATIVE: idioms that contain danger words. They are removed from the sentence first.
- negation: "never", "not", "n't" (see NEGATION) just before a match or inside it ("he has never
  hit me") cancels it, unless the pattern is itself negative ("I don't want to live"); so does one
  up to seven words back with no new clause between (FAR_NEGATION, CLAUSE: "not having any dark
  thoughts about hurting myself", but not "I can't believe he choked me"), and a denial after it
  ("... and I've never had either"). What both people agreed to (MUTUAL) is not control.
- hypotheticals and jokes ("as a joke", "jokingly", "in the movie") cancel matches of the
  mildest patterns only (`strong=False`).

The embedding classifier (`classifier.py`) catches what these miss; `detector.py` combines both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PARTNER = (r"(?:my |his |her |our )?(?:husband|hubby|wife|wifey|partner|spouse|boyfriend|girlfriend|bf|gf|fianc[eé]e?|"
           r"ex|ex-?husband|ex-?wife|ex-?boyfriend|ex-?girlfriend|man|boo|baby ?daddy|baby ?mama|"
           r"dad|father|stepdad|step-?father|mom|mum|mother|stepmom|step-?mother|brother|sister|uncle|parents?|"
           r"son|daughter|in-?laws?|mother-?in-?law|father-?in-?law)")
AGENT = rf"(?:(?:he|she|they)(?:'[a-z]+)?|{PARTNER})"
ME = r"(?:me|us|my (?:face|head|arms?|neck|body|stomach|chest)|him|her)"
KID = (r"(?:my |our |his |her |the |a )?(?:kids?|child|children|son|daughter|baby|babies|toddler|infant|"
       r"stepson|stepdaughter|step-?kids?|little one|boy|girl|niece|nephew|grandson|granddaughter)")

# Idioms and ordinary senses of danger words: removed before matching.
FIGURATIVE = re.compile(r"\b(?:" + "|".join([
    r"hit (?:a|another|the) (?:rough|bad|low|rocky|wall|snag|bump|road block|roadblock|plateau|brick wall|rut|"
    r"milestone|jackpot|nerve|spot|sweet spot|gym|hay|road|books|ground running|nail on the head|snooze)\w*",
    r"hit (?:it|things) off", r"hit (?:me|us|him|her) up", r"hits? (?:home|close to home|different)",
    r"hit (?:a )?(?:rock bottom|low point|breaking point)",
    r"(?:jokes?|feet|back|knees?|shoes|heels|commute|job|boss|kids|suspense|wait|waiting|traffic|this|that|it|"
    r"work|heat|hangover|exams?|deadlines?) (?:is |are |was |were )?(?:killing|kills|killed|murdering) (?:me|us)",
    r"(?:you|he|she|they|it|that) (?:kill|kills|slay|slays) me", r"killing it", r"kill(?:ed|ing)? (?:the|a) (?:mood|vibe|time|"
    r"spark|romance|conversation|lights?|engine|bottle|idea|plan)", r"dressed to kill", r"kill two birds",
    r"(?:i'?m |i am |we'?re |we are )?dying (?:to|for|of (?:laughter|embarrassment|boredom|curiosity))",
    r"dying laughing", r"(?:dead|bone) tired", r"dead (?:inside|end|serious|set|on|wrong|right|battery)",
    r"shot (?:down|me down|it down|my \w+ down)", r"shoot(?:ing)? (?:down|my shot|a text|a message|me a text|for)",
    r"take (?:a|my|our) shot", r"long shot", r"big shot", r"photo ?shoot",
    r"cut (?:ties|back|corners|out (?:sugar|carbs|alcohol|drinking|coffee)|it out|me some slack|the cord)",
    r"cut (?:and|&) dry", r"short cut", r"hair ?cut",
    r"choked (?:up|on (?:my|the) words?|during|at|when)", r"choke up",
    r"beat (?:around the bush|myself up|yourself up|the odds|the traffic|the rush|me at|him at|her at|us at)",
    r"(?:push|pushing|pushed) (?:me|us|him|her) away", r"push(?:ing|ed)? (?:my|his|her) buttons",
    r"push(?:ing|ed)? (?:the|a) (?:issue|topic|subject|idea|button)", r"pushed (?:for|back)",
    r"(?:a|the) punch ?line", r"punch(?:ed)? (?:above|the clock)", r"slap ?stick",
    r"blow (?:up|off) (?:my|his|her) phone", r"blew up (?:my|his|her) phone",
    r"hurt(?:s|ing)? (?:my|his|her|our) feelings", r"hurt feelings",
    r"(?:snooze|alarm) button", r"abuses? the (?:snooze|privilege|system|word)",
    r"strangle (?:him|her|you) for forgetting", r"could (?:kill|strangle|murder) (?:him|her|you) for",
    r"murder(?:s|ed|ing)? (?:me|us) (?:at|in) (?:chess|cards|games?|tennis|scrabble|monopoly)",
    r"bur(?:n|ned|nt) (?:out|the (?:toast|dinner|food))", r"burn ?out",
    r"kick(?:s|ed|ing)? (?:[\w']+ ){0,3}out\b", r"kicked to the curb", r"a kick out of",
    r"stab(?:s|bed|bing)? (?:me |him |her |us |you )?in the back", r"choked? on (?:a|his|her|my|the|some) [\w']+",
    r"choked? (?:me |him |her )?out", r"beat(?:s|ing)? (?:me|him|her|us) at", r"bungee[- ]?jump\w*",
    r"end(?:ing|ed)? (?:it|things) with (?:him|her|my|them|me)",
    # hyperbole over trivia: "she'll strangle me if I propose in public", "mum is going to murder me
    # when she sees the bill"; a condition about leaving, telling or refusing keeps it a threat
    r"(?:is going to|'s going to|are going to|gonna|will|'ll|'d|would) (?:literally |actually |totally |honestly )?"
    r"(?:kill|murder|strangle|throttle|end) (?:(?:me|him|her|you|us|them|anyone|everyone)|(?:the|my|his|her) [\w']+)"
    r"(?= (?:if|when|for|once|the moment|the second) (?!(?:i|we|he|she|they) (?:ever |even |try to |tries to |tried to |"
    r"dare to )?(?:leave|leaves|left|go to|goes to|went to|tell|tells|told|report|reports|call|calls|called|talk|talks|"
    r"talked|speak|see|break|breaks|divorce|take|takes|say no|says no|said no|refuse|refuses|cheat|cheats|"
    r"get pregnant|keep|text|texts|message|run|ran)\b))",
    r"(?:'d|would) (?:rather|sooner) (?:die|kill (?:my|him|her|them)sel(?:f|ves)|shoot (?:my|him|her)self|be dead) than",
    r"(?:literally |actually )?(?:want(?:ed)? to|wanna|could) (?:die|kms) (?:every time|whenever|of|from|when i "
    r"(?:think|remember|see|look))",
    r"one more time[^.!?]{0,30}(?:kms|kill myself|die|end it)",
    r"hit(?:s|ting)? on (?:every|any|a|the|me|my|him|her|girls|women|men|guys|waitress\w*|people|someone|other|anyone|"
    r"everyone|everything)",
    r"pushed away", r"push(?:ing|es)? (?:people|everyone) away", r"deer stalking", r"stalking (?:deer|game)", r"hit by (?:a|the) (?:car|bus|truck|ball|van|bike|train)",
]) + r")\b")

_NEGATORS = (r"(?:\b(?:never|not|no|nobody|nor|without|cannot|doesnt|dont|didnt|wont|wouldnt|isnt|wasnt|cant|"
             r"couldnt|hasnt|havent|hadnt|aint)\b|n't\b|\bno one\b|\bno longer\b|"
             r"\bwould never\b|\bwill never\b)")
# A negator in the few words before a match, or inside it before its verb ("he has never hit me").
NEGATION = re.compile(_NEGATORS + r"(?:[^.,;:!?]{0,12}|(?: (?:had|have|having|got|ever))?(?: (?:contemplated|considered|"
                                  r"thought about|attempted|tried|felt))?(?: any)?(?: (?:thoughts?|urges?|intentions?|"
                                  r"plans?|desire|wish|idea)s? (?:of|to|about))? )$")
NEGATOR = re.compile(_NEGATORS)
# ... or a few words further back, when nothing between starts another clause or turns it round
# ("I'm not having any dark thoughts about hurting myself", "never given me any reason to be afraid
# of him"; not "I never told anyone that he hits me", "I can't believe he hit me").
FAR_NEGATION = re.compile(_NEGATORS + r"((?: [\w']+){1,7} )$")
CLAUSE = re.compile(r"\b(?:that|who|when|why|how|what|where|which|whether|but|and|until|because|since|after|before|if|believe|believed|know|knew|realis\w+|realiz\w+|"
                    r"imagine\w*|expect\w*|told|tell|say|said|admit\w*|want|wanted|stop|stopped|quit|help|anymore|"
                    r"(?:he|she|they)(?:'[a-z]+)?|again)\b")
# ... or a denial after it in the same sentence: "asked about self-harm and suicidal thoughts and
# I've never had either".
AFTER_NEGATION = re.compile(r"^[^.;!?]{0,80}?\b(?:i'?ve never had (?:either|any of (?:them|those|that))|i (?:have|had) "
                            r"(?:neither|none of)|(?:and|but) i'?m not (?:suicidal|at risk|in danger|going to (?:do|act)))")
# Both people agreed to it: shared locations, a phone handed over on request.
MUTUAL = re.compile(r"\b(?:and i (?:track|check|read|see) (?:his|hers|theirs)|we both|each other'?s|at my request|"
                    r"i asked (?:him|her|them) to|mutual(?:ly)?|we agreed)\b")
MUTUAL_PATTERNS = frozenset({"control", "stalking"})
# The sentence is about work, study, media or sport, not the speaker's own danger: a detective in a
# domestic abuse unit, a suicide-prevention helpline volunteer, a film, a sparring partner.
CONTEXT = re.compile(r"\b(?:volunteer\w*|helpline|hotline|crisis (?:text )?line|detective|police officer|social work\w*|"
                     r"nurs(?:e|es|ing)|paramedic|clinicals?|patients?|clients?|course|class|lecture|seminar|teach(?:es|ing)?|"
                     r"training|trained|podcast|documentary|film|movie|netflix|series|episode|novel|book|thriller|"
                     r"news|article|prevention|awareness|unit|research\w*|sparring|spar|bjj|jiu-?jitsu|judo|mma|"
                     r"martial arts|boxing|rugby|tackle|ruck|hockey|fencing|foil|bout|pitch|match|ivf|injections?|"
                     r"surgery|tripped|fell|climbing|figuratively|metaphorically|caseload|testimony|"
                     r"trial(?! separation| period)|essay|assignment|dissertation|thesis|coursework|role ?play|episodes|"
                     r"part of my job|my job (?:is|involves)|i'?m an? (?:[\w-]+ ){0,2}(?:therapist|counsell?or|lawyer|"
                     r"solicitor|attorney|barrister|judge|reporter|journalist|officer|advocate|case ?worker|psychologist|"
                     r"psychiatrist|doctor|gp|midwife|researcher|student|teacher|pastor|priest|chaplain|vicar))\b")
# The speaker is not disclosing: a joke, a film, a book, a game, a hypothetical.
NOT_DISCLOSURE = re.compile(r"\b(?:jok(?:e|ed|es|ing|ingly)|kidding|lol|lmao|haha|in (?:the|a) (?:movie|film|show|"
                            r"book|novel|game|series|documentary|song|news)|video ?game|(?:watched|read|reading|"
                            r"watching|writing) (?:a|the)|read (?:something|an article|a post|about|(?:so much|a lot|lots|loads) about)|thriller|villain|character|plot|hypothetically|"
                            r"figure of speech|metaphorically|figuratively)\b")


@dataclass(frozen=True)
class Pattern:
    name: str
    concern: str
    regex: re.Pattern
    negatable: bool = True  # a negation just before the match cancels it ("he has never hit me")
    strong: bool = True  # False: a joke or film in the sentence cancels it too
    in_context: bool = True  # False: work, study, media or sport in the sentence cancels it (CONTEXT)
    names_danger: bool = False  # True: the words name the abuse ("abusive partner"): the classifier never vetoes it


def _p(name: str, concern: str, expression: str, **kwargs) -> Pattern:
    return Pattern(name, concern, re.compile(expression), **kwargs)


HIT = (r"(?:hit|hits|hitting|punch|punches|punched|punching|slap|slaps|slapped|slapping|kick|kicks|kicked|kicking|"
       r"beat|beats|beaten|beating|smack|smacks|smacked|shove|shoves|shoved|shoving|push(?:es|ed)?|choke|chokes|"
       r"choked|choking|strangle[sd]?|strangling|throttle[sd]?|bites me|bit me|headbutt(?:ed|s)?|slam(?:s|med)? me|"
       r"stab|stabbed|stabs|burn(?:ed|t)? me|drag(?:ged|s)? me (?:across|along|down|out|by|through)|pin(?:ned|s)? me|"
       r"threw (?:[\w']+ ){0,3}at me|throws (?:[\w']+ ){0,3}at me|thr(?:ew|ows) me (?:into|against|across|down|onto|"
       r"off)|(?:gets?|got|getting) (?:a (?:little|bit) )?(?:rough|heavy-?handed|physical) with me|"
       r"grab(?:bed|s)? me by|spit on me|spat on me|harm(?:ed|s)? me|attack(?:ed|s)? me|"
       r"pin(?:ned|s)? me (?:down|against)|held (?:me|my (?:wrists|arms)) down|hold(?:s)? (?:me|my (?:wrists|arms)) down|"
       r"rough(?:ed|s)? (?:me )?up|lay(?:s)? (?:a )?hands? on|laid (?:a )?hands? on|put (?:his|her) hands? on)")

PATTERNS: tuple[Pattern, ...] = (
    # ---- intimate-partner and family violence or abuse --------------------------------------
    _p("physical", "abuse", rf"\b{AGENT} (?:[\w']+ ){{0,3}}{HIT}\b(?! (?:(?:on|the|a) (?:ball|wall|gym|road|button|"
                            rf"brakes?|pillow|floor|snooze)|(?:his|her|their|my) (?:own )?(?:pillow|cushion|punch ?bag|"
                            rf"punching bag)))",
       in_context=False),
    _p("physical-passive", "abuse", r"\b(?:i|i'?ve|i have|i was|i got|i get|i've been|was|been|being|get) (?:[\w']+ ){0,2}"
                                    r"(?:hit|punched|slapped|kicked|beaten|choked|strangled|shoved|smacked|"
                                    r"thrown|pushed|hurt|attacked|abused|raped|assaulted|molested|battered|strangled)"
                                    r" (?:by|again)\b", in_context=False),
    _p("throat", "abuse", r"\b(?:by|around|on|round) (?:the |my )?(?:throat|neck)\b|\bhands? (?:around|on|round) my "
                          r"(?:throat|neck)\b|\bchok(?:ed|es|ing) me\b|\bstrangl(?:ed|es|ing) me\b", in_context=False),
    _p("thrown-things", "abuse", r"\b(?:threw|throws|thrown|hurled|hurls|smashed|smashes|broke|breaks) "
                                 r"(?:[\w']+ ){0,3}(?:at me|at my head|at us|near my head)\b"),
    _p("bruises", "abuse", r"\b(?:(?:i have|i had|i've got|left|leaves|gave me|give me|covered in|hide|hid|hiding|cover(?:ed)? up|"
                           r"makeup over|long sleeves (?:to|for)) (?:[\w']+ ){0,3}(?:bruises?|black eye|bruised|split lip|"
                           r"marks)|(?:bruises?|marks) (?:on|all over) my|broken (?:nose|rib|arm|wrist|jaw) (?:from|after) "
                           r"(?:he|she|him|her))\b", in_context=False),
    _p("named-abuse", "abuse", r"\b(?:domestic (?:violence|abuse)|intimate partner violence|abusive (?:relationship|"
                               r"marriage|husband|wife|partner|boyfriend|girlfriend|ex|father|mother|parents?|home|"
                               r"household|family)|(?:emotional|emotionally|verbal|verbally|physical|physically|sexual|"
                               r"sexually|financial|financially|psychological|psychologically|mental|mentally|"
                               r"narcissistic) ab(?:use|used|using|usive)|"
                               r"(?:he|she|they) (?:is|was|are|were|'s|can be|became|becomes|got|gets) (?:[\w']+ )?abusive|"
                               r"abusive (?:situation|ex|past)|"
                               r"(?:abuses|abused|abusing) me|being abused|been abused|was abused|"
                               r"coercive control|battered|restraining order|protective order|order of protection|"
                               r"survivor of (?:abuse|rape|assault|domestic))\b", strong=False, in_context=False,
       names_danger=True),
    _p("sexual", "abuse", r"\b(?:raped|raping|rapist|rapes me|rape me|(?:a|the) rape|sexual(?:ly)? (?:assault(?:ed)?|abuse[ds]?|coerc\w+)|"
                          r"molest(?:ed|ation|ing|s)?|forced (?:me )?(?:into |to have )?sex|forces me to have sex|"
                          r"makes? me have sex|made me have sex|sex (?:when|after) i (?:said|say) no|"
                          r"(?:didn'?t|don'?t|did not) (?:want|consent) (?:to|and) (?:[\w']+ ){0,4}(?:anyway|still|forced)|"
                          r"won'?t (?:take|accept) no for an answer|woke up (?:with )?(?:my )?(?:clothes off|naked|undressed|"
                          r"without my clothes)|(?:secret|special) games|(?:terrified|scared|afraid|too scared) to (?:say no|refuse|"
                          r"tell (?:him|her) no)|pressur\w+ me into sex|touch(?:ed|es|ing) me "
                          r"(?:when|while) i (?:was )?(?:asleep|sleeping|said no)|incest)\b"),
    _p("threats", "abuse", rf"\b(?:threat\w*|says? (?:he|she)(?:'ll| will| would|'d)|said (?:he|she)(?:'d| would| will|'ll)|"
                           rf"swore|promised|warned) (?:[\w']+ ){{0,4}}(?:kill|hurt|harm|beat|shoot|stab|end) "
                           rf"(?:me|us|my|the kids|them|himself|herself)\b|"
                           rf"\b(?:threat\w*|if i (?:ever )?(?:leave|left|go)) (?:[\w']+ ){{0,4}}(?:take|taking) (?:the|my|our) "
                           rf"(?:kids|children|baby|son|daughter)\b|"
                           rf"\b(?:gun|knife|weapon|rifle|pistol)s? (?:[\w']+ ){{0,6}}(?:at me|to my head|on me|in my face|"
                           rf"threaten)|\b(?:pulled|pointed|held|waved) (?:a|his|her) (?:gun|knife)\b|"
                           rf"\b(?:crash|drive|put) (?:us|me) (?:both )?(?:into|off|in the)|(?:he|she)(?:'ll| will|'d| would) "
                           rf"crash (?:us|me|the car)", strong=False, in_context=False),
    _p("stalking", "abuse", r"\b(?:stalk(?:s|ed|ing|er)?|track(?:s|ed|ing)? (?:my|me)|(?:gps|tracker|tracking app|"
                            r"spyware|find my|life360)\b.{0,40}\b(?:my|me)\b|shows? up (?:at|outside) my (?:work|job|"
                            r"house|place|school|apartment|door)|showed up (?:at|outside) my (?:work|job|house|place|"
                            r"school|apartment|door)|follow(?:s|ed|ing)? me (?:home|to work|everywhere|around)|"
                            r"won'?t (?:stop|leave me alone)|keeps? (?:showing up|turning up)|(?:parked|parks|waiting|waits|sits) "
                            r"(?:[\w']+ ){0,3}(?:outside|at the end of|across from|opposite) my (?:house|road|street|flat|"
                            r"work|place|door)|follow(?:s|ed|ing)? me (?:round|around)|"
                            r"(?:hacked|hacks|reads?|checks?|goes through|went through|monitors?) (?:[\w']+ ){0,2}"
                            r"(?:my )?(?:phone|emails?|messages|texts|location|accounts?) (?:every|all the time|"
                            r"constantly|daily|without))\b", strong=False, in_context=False),
    _p("control", "abuse", r"\b(?:(?:he|she|they|husband|wife|partner|boyfriend|girlfriend|bf|gf|fianc[eé]e?|ex|spouse)"
                           r"(?:'[a-z]+)? (?:[\w']+ ){0,2}(?:takes?|took|keeps?|kept|hides?|hid|controls?|controlled|withholds?|holds?) "
                           r"(?:[\w']+ ){0,2}my (?:phone|money|paycheck|paycheque|pay|wages|car keys|keys|passport|"
                           r"bank card|cards?|id|documents|salary)|(?:won'?t|doesn'?t|don'?t|never) (?:let|allow) (?:me|her|him) "
                           r"(?:[\w']+ ){0,5}(?:see|visit|talk to|call|go out|go anywhere|leave|work|have (?:my own )?money|"
                           r"drive|use the|get a job|take the (?:kids|children|baby)|sleep|eat)|(?:not|isn'?t|wasn'?t|aren'?t) allowed (?:to (?:see|visit|talk|go|leave|"
                           r"work|have|call|drive)|(?:my|her|his) own (?:phone|money|bank|car|friends))|"
                           r"can'?t (?:go|come|leave|see (?:my|her|his) (?:family|friends)) (?:[\w']+ ){0,4}unless (?:he|she)|(?:cut|cuts|cutting|isolat\w+) (?:me )?(?:off )?(?:from|off from) "
                           r"(?:my )?(?:family|friends|parents|everyone)|isolat(?:es|ed|ing) me|locks? me (?:in|out)|"
                           r"locked me (?:in|out)|allowance from (?:him|her)|(?:makes|made) me ask (?:permission|for "
                           r"money)|(?:have|had|need) to ask (?:his|her) permission|afraid of (?:him|her|my "
                           r"(?:husband|wife|partner|boyfriend|girlfriend|ex|dad|father|mom|mother))|scared of (?:him|"
                           r"her|my (?:husband|wife|partner|boyfriend|girlfriend|ex|dad|father|mom|mother))|"
                           r"(?:terrified|frightened) of (?:him|her|my)|walk(?:ing)? on eggshells|(?:scared|afraid|terrified) to go "
                           r"home|i flinch|(?:call|calls|report|reports) (?:me to )?immigration|(?:get|have) me deported|"
                           r"gives me \$?\d+ a (?:week|month)|nobody (?:would|will) (?:ever )?believe (?:me|you|a)|"
                           r"(?:post|share|send|leak)(?:s|ed|ing)? (?:[\w']+ ){0,2}(?:nudes|naked (?:photos|pictures|pics)|"
                           r"sex tape)|"
                           r"(?:calls?|called) me (?:a |an )?(?:[\w']+ ){0,3}(?:whore|slut|bitch|cunt|retard)\b)\b"),
    _p("intimidation", "abuse", rf"\b{AGENT} (?:[\w']+ ){{0,3}}(?:punch(?:es|ed)?|hit(?:s)?|smash(?:es|ed)?|kick(?:s|ed)?) "
                                rf"(?:the|a) (?:wall|door|window)s? (?:[\w']+ ){{0,3}}(?:next to|near|beside|by|behind) "
                                rf"(?:my|me)|\b(?:broke|smashed|kicked in|punched a hole in) (?:the|our|my) "
                                rf"(?:bedroom |bathroom |front )?(?:door|window|phone)\b|\b(?:held|holds|put|puts|pointed|"
                                rf"points) (?:a|his|her|the) (?:kitchen )?(?:knife|gun|blade) (?:[\w']+ ){{0,3}}(?:to|at|in|on|"
                                rf"near) (?:my|me)|(?:could|will|would|'ll) end me\b|next time it won'?t be"),
    # ---- suicidal thoughts and self-harm -------------------------------------------------------
    _p("suicide", "self_harm", r"\b(?:suicid\w*|kill(?:ing)? (?:my ?self|themselves|himself|herself)|"
                               r"end(?:ing)? (?:my|it|his|her) (?:own )?(?:life|lives|all)|end it all|"
                               r"take (?:my|his|her) (?:own )?life|taking my (?:own )?life|unalive|"
                               r"(?:hang|hanging|overdos\w+|od(?:'?ing)?) (?:my ?self|on (?:pills|my))|"
                               r"overdose|slit (?:my|his|her) wrists?|jump(?:ing)? (?:off|in front of) "
                               r"(?:a |the )?(?:bridge|building|roof|train|car)|razor ?blades?|"
                               r"(?:pills|painkillers|tablets|meds) (?:[\w']+ ){0,2}(?:saved|stockpiled|hoarded|saving)|"
                               r"(?:saved|saving|stockpiled|hoarding) (?:up )?(?:[\w']+ )?(?:pills|painkillers|tablets|meds)|"
                               r"swallowed (?:a handful|a bunch|all|a bottle) of (?:[\w']+ ){0,2}(?:pills|painkillers|tablets|"
                               r"meds)|how many (?:[\w']+ ){0,3}(?:pills|tablets|paracetamol|painkillers|tylenol) (?:[\w']+ )?(?:would|does|"
                               r"will) (?:it )?take|"
                               r"(?:ways|how) to (?:do it|die|end it)|which bridge|step off (?:the )?(?:platform|edge|ledge)|"
                               r"engine running|life insurance would)\b", negatable=True, in_context=False),
    _p("wish-dead", "self_harm", r"\b(?:wish (?:i was|i were|i'?d|i could be|i had) (?:dead|never been born|gone|"
                                 r"not here|not alive|not wake)|(?:hope|wish|pray) (?:that )?(?:i )?(?:just )?"
                                 r"(?:don'?t|never|won'?t|wouldn'?t) wake up|wants?(?:ed)? to (?:disappear forever|"
                                 r"not exist|stop existing|not be alive|sleep forever)|(?:don'?t|do not|didn'?t) "
                                 r"want to (?:live|be alive|be here|exist|wake up|go on|keep going|be around)|"
                                 r"(?:no|any) (?:reason|point) (?:to|in) (?:live|living|going on|being alive|"
                                 r"being here|life)|better off (?:without me|dead|if i (?:was|were)n'?t)|"
                                 r"(?:shouldn'?t|should not) (?:be here|be alive|exist)|not (?:be|being) here "
                                 r"anymore|can'?t (?:go on|keep going)|what'?s the point (?:of|in) (?:going on|living|"
                                 r"life|anything|being alive|being here|carrying on)|better off with(?:out)? (?:me|someone "
                                 r"else)|better off if i (?:just )?(?:was|were)(?:n'?t| not| gone| dead)|"
                                 r"how (?:much )?longer i can (?:try|do this|hold on|keep going|take (?:it|this)|go on)|"
                                 r"(?:see|find) no (?:point|reason) (?:in|to) (?:[\w']+ ){0,4}(?:life|living|going on|"
                                 r"anything|being alive)|edge of the (?:platform|bridge|roof|cliff)|"
                                 r"(?:thoughts?|thinking) (?:of|about) (?:dying|death|not being here|ending)|"
                                 r"nothing to live for|life (?:isn'?t|is not) worth (?:living|it)|"
                                 r"(?:ready|going) to give up on (?:life|living|everything)|"
                                 r"(?:wrote|writing|write|written) (?:a |my )?(?:suicide |goodbye )(?:note|letter)s?|"
                                 r"(?:written|wrote) letters to (?:[\w']+ ){0,4}(?:and|kids)|"
                                 r"giving away my (?:things|stuff|belongings)|won'?t need (?:them|it|any of it) "
                                 r"(?:anymore|where i'?m going))\b", negatable=False, in_context=False),
    _p("want-to-die", "self_harm", r"\b(?:wants?(?:ed)? to (?:die|be dead)|kms|kill me now|i'?m done with (?:life|"
                                   r"living|everything))\b", strong=False),
    _p("self-injury", "self_harm", r"\b(?:self[- ]?harm\w*|self[- ]?injur\w*|cut(?:ting|s)? (?:my ?self|my (?:arms?|"
                                   r"wrists?|legs?|thighs?|skin))|burn(?:ing|ed|t)? my ?self|hurt(?:ing)? my ?self|"
                                   r"harm(?:ing)? my ?self|(?:hit|hitting|punch|punching) my ?self|"
                                   r"scratch(?:ing)? (?:my ?self|my (?:arms?|skin)) (?:until|till) (?:it|i) bleed|"
                                   r"starting to cut again|relapsed? (?:on|into) (?:cutting|self)|(?:burn|cut|scratch)(?:ing|ed|es|s)? "
                                   r"(?:[\w']+ ){0,4}(?:my|the inside of my) (?:arms?|wrists?|skin|thighs?|legs?|stomach)|"
                                   r"(?:until|till) (?:they|it|i) bleeds?|(?:don'?t|won'?t) let myself eat|"
                                   r"keep a (?:blade|razor)|(?:make|making|made) myself "
                                   r"(?:throw up|sick|vomit)|trying to throw up|starv(?:e|ing) myself)\b"),
    # ---- a child at risk ------------------------------------------------------------------------
    _p("child-hurt", "child", rf"\b{AGENT} (?:[\w']+ ){{0,3}}(?:hit|hits|hitting|beat|beats|beating|slap|slaps|"
                              rf"slapped|punch(?:es|ed)?|kick(?:s|ed)?|chok(?:es|ed)|shak(?:es|ing|ed)|shook|burn(?:s|ed)|"
                              rf"hurt(?:s)?|abus(?:es|ed)|touch(?:es|ed)|molest(?:s|ed)|spank(?:s|ed)? (?:[\w']+ ){{0,2}}"
                              rf"(?:until|till|with a (?:belt|stick|cord))|whip(?:s|ped)?|lock(?:s|ed)? (?:[\w']+ ){{0,2}}"
                              rf"in (?:a|the|his|her) (?:closet|room|basement)) {KID}\b"),
    _p("child-sexual", "child", rf"\b(?:(?:touch(?:es|ed|ing)?|molest(?:s|ed|ing)?|abus(?:es|ed|ing)?|"
                                rf"inappropriate with) {KID}|{KID} (?:[\w']+ ){{0,4}}(?:molested|abused|touched "
                                rf"(?:inappropriately|sexually)|inappropriately touched)|(?:child|kid|underage|minor)s? "
                                rf"(?:porn|pornography|sexual abuse|abuse images)|(?:sex|sleeping|hooking up|"
                                rf"sexting|relationship) with (?:a )?(?:minor|\d{{2}} ?(?:yo|year old))|"
                                rf"(?:i'?m|im|i am) (?:1[0-7]|thirteen|fourteen|fifteen|sixteen|seventeen) (?:[\w']+ ){{0,8}}"
                                rf"(?:he|she|my (?:boyfriend|girlfriend|bf|gf|partner)) (?:is|'s) (?:19|2\d|3\d|4\d))\b", in_context=False),
    _p("child-neglect", "child", rf"\b(?:{KID} (?:[\w']+ ){{0,3}}(?:left alone|neglected|not fed|starving|going hungry|"
                                 rf"scared of (?:him|her|their|my)|has bruises|had bruises|covered in bruises)|"
                                 rf"leaves? {KID} alone (?:for|all)|(?:neglects?|neglected|neglecting) {KID}|"
                                 rf"child (?:abuse|neglect|protective services)|cps)\b", in_context=False),
    _p("child-physical", "child", rf"\b(?:(?:spank|spanks|spanked|whip|whips|whipped|beat|beats|hits?) (?:[\w']+ ){{0,4}}"
                                  rf"with (?:a|an|his|her|the) (?:belt|cord|electrical cord|wire|stick|wooden spoon|paddle|"
                                  rf"shoe)|(?:shakes|shook|shaking) (?:the baby|her|him|them) (?:really |so )?hard|"
                                  rf"holds? (?:his|her|their) head under|lock(?:s|ed)? (?:{KID}|my \d+[- ]?(?:year[- ]old|yo)) "
                                  rf"(?:[\w']+ ){{0,2}}in (?:a|the|his|her|their) (?:closet|cupboard|room|basement|car)|forg(?:et|ot) to feed (?:the|my|our) (?:baby|kids?|"
                                  rf"toddler)|(?:leaves?|left) (?:[\w']+ ){{0,2}}(?:kids?|children|baby|toddler)(?: \([^)]*\))? "
                                  rf"alone (?:in|at|for|all))\b"),
    _p("minor-at-home", "child", r"\b(?:i'?m|i am) (?:1[0-7]|a (?:teen|teenager|minor|kid)|only (?:1[0-7]|a kid)|"
                                 r"in (?:middle|high) school|im 1[0-7])\b.{0,160}\b(?:hits? me|beats? me|hurts? me|abus\w+ me|"
                                 r"touch(?:es|ed) me|scared to go home|afraid to go home|kick(?:s|ed) me out|"
                                 r"locks? me)\b"),
    # ---- thoughts of harming others -------------------------------------------------------------
    _p("urge-to-harm", "harm_to_others", rf"\b(?:(?:urges?|thoughts?|fantas\w+|images?|impulses?) (?:[\w']+ ){{0,3}}"
                                         rf"(?:to |of |about )(?:hurt|hurting|harm|harming|kill|killing|stab|"
                                         rf"stabbing|shoot|shooting|strangl\w+|drown\w*|beat|beating|smother\w*) "
                                         rf"(?:him|her|them|someone|somebody|people|{PARTNER}|{KID})|"
                                         rf"(?:afraid|scared|worried|terrified) (?:that )?i(?:'ll| will| might| could| am "
                                         rf"going to| would) (?:[\w']+ ){{0,2}}(?:hurt|harm|kill|hit|snap and hurt) "
                                         rf"(?:him|her|them|someone|somebody|{PARTNER}|{KID})|"
                                         rf"(?:want|wanted|going|gonna|plan|planning) to (?:kill|hurt|harm|stab|"
                                         rf"shoot|beat up|poison) (?:him|her|them|my|his|her|someone|somebody|"
                                         rf"{PARTNER}|{KID})(?! for (?:forgetting|leaving|eating|being))|"
                                         rf"(?:how|ways) to (?:kill|poison|hurt) (?:my|him|her|someone)|"
                                         rf"(?:scare|scares|scared) myself with how (?:much|badly) i want to|"
                                         rf"i(?:'ll| will|'d| would) (?:[\w']+ ){{0,2}}(?:kill|murder|stab|shoot|strangle) "
                                         rf"(?:him|her|them|{PARTNER})(?! for )|(?:fantasi[sz]e|fantasi[sz]ing|thinking|"
                                         rf"thoughts) (?:[\w']+ ){{0,2}}(?:poisoning|killing|murdering|stabbing|shooting|"
                                         rf"running (?:[\w']+ ){{0,2}}over)|(?:run|running) (?:my ex|him|her|them) over|"
                                         rf"(?:pillow|hands?) over (?:his|her) (?:face|mouth)|(?:squeezed|twisted|grabbed) "
                                         rf"(?:his|her) (?:arms?|wrists?|neck) (?:until|till|so hard|really hard|hard)|"
                                         rf"(?:picture|imagine|imagining|picturing|dream(?:ing)? about) (?:[\w']+ ){{0,5}}"
                                         rf"(?:hurting|killing|stabbing|shooting|strangling|beating) (?:him|her|them|both|my)|pinned (?:him|her) "
                                         rf"(?:against|to|down)|(?:using|use) it on (?:him|her|my|them)|"
                                         rf"driving (?:the car )?into (?:the|a) (?:lake|river|wall|tree) with|(?:put|putting|wrap|wrapping|squeeze|"
                                         rf"squeezing) my hands? (?:round|around) (?:her|his) (?:neck|throat)|"
                                         rf"(?:took|take|brought|bring|carry|carried) a (?:knife|gun|weapon) with me)\b", strong=False),
    _p("own-violence", "harm_to_others", rf"\bi(?:'ve| have|'d| had)? (?:[\w']+ ){{0,2}}(?:hit|hits|punched|punch|slapped|slap|shoved|shove|"
                                         rf"pushed|choked|choke|kicked|kick|beat|smacked|strangled|grabbed) "
                                         rf"(?:{PARTNER}|{KID}|him|her)\b(?! (?:up|back with|with a pillow|"
                                         rf"at (?:chess|cards|games?)))|\bi(?:'ve| have) been (?:violent|physical|"
                                         rf"abusive)|\b(?:my|i have an?) (?:violent|abusive) (?:temper|streak|behaviou?r)|"
                                         rf"\bi (?:get|got|become|became) (?:violent|physical|abusive)\b|\bi(?:'ve)? (?:[\w']+ ){{0,2}}(?:been |started )?"
                                         rf"hitting (?:him|her|them|my)\b|\bi (?:broke|split|bruised|cut|fractured) (?:[\w']+ ){{0,2}}"
                                         rf"(?:nose|lip|eyebrow|rib|jaw|eye|arm|wrist)\b|\bi'?m (?:the )?"
                                         rf"(?:abuser|abusive one)\b|\b(?:anger|rage) (?:[\w']+ ){{0,4}}(?:hurt|hit|"
                                         rf"hitting) (?:my|someone|him|her)"),
)

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return _SPACES.sub(" ", text.lower()).strip()


def sentences(text: str) -> list[str]:
    """The sentences of a question (a long story is many), normalised, empty ones dropped."""
    return [s for s in (normalise(part) for part in _SENTENCE_SPLIT.split(text or "")) if s]


@dataclass(frozen=True)
class PatternMatch:
    pattern: Pattern
    sentence: str
    matched: str


_SERIOUS = re.compile(r"\b(?:not|no|n't) (?:a )?(?:jok\w*|kidding)\b|\bno joke\b|n't (?:jok\w*|kidding)\b|i'?m serious")


def _negated(sentence: str, start: int, end: int, matched: str) -> bool:
    before = sentence[max(0, start - 60):start]
    if NEGATOR.search(matched):
        return True
    near = NEGATION.search(before[-40:])
    if near and not CLAUSE.search(near.group(0)[NEGATOR.match(near.group(0)).end():]):
        return True
    far = FAR_NEGATION.search(before)
    if far and not CLAUSE.search(far.group(1)):  # words and spaces only: no punctuation between
        return True
    return bool(AFTER_NEGATION.search(sentence[end:]))


def _cancelled(pattern: Pattern, sentence: str, start: int, end: int, matched: str) -> bool:
    if pattern.negatable and _negated(sentence, start, end, matched):
        return True
    if pattern.name in MUTUAL_PATTERNS and MUTUAL.search(sentence):
        return True
    if not pattern.in_context and CONTEXT.search(sentence):
        return True
    return not pattern.strong and bool(NOT_DISCLOSURE.search(_SERIOUS.sub(" ", sentence)))


def match_sentence(sentence: str) -> list[PatternMatch]:
    """The patterns that match one normalised sentence, idioms removed, negated matches dropped."""
    literal = FIGURATIVE.sub(" _ ", sentence)
    found = []
    for pattern in PATTERNS:
        for m in pattern.regex.finditer(literal):
            if not _cancelled(pattern, literal, m.start(), m.end(), m.group(0)):
                found.append(PatternMatch(pattern, sentence, m.group(0)))
                break
    return found


# Across the whole question: a minor, a sexual or secretive contact, and an adult. Each alone is
# ordinary ("my 15 year old", "he messages her", "my brother is 28"); together, a child at risk.
MINOR = re.compile(r"\b(?:(?:i'?m|im|i am|she'?s|he'?s|she is|he is|(?:daughter|son|niece|nephew|sister|brother|"
                   r"stepdaughter|stepson) (?:is|just turned)) (?:only )?(?:1[0-7]|[2-9]|thirteen|fourteen|fifteen|"
                   r"sixteen|seventeen)\b|\b(?:1[0-7]|[2-9])[- ]?(?:yo|y/o|year[- ]old|years old)\b|"
                   r"\b(?:minor|underage|under ?age|preteen|middle school(?:er)?|in (?:year|grade) [5-9])\b)")
CONTACT = re.compile(r"\b(?:sex|sexual|sexting|sleeping together|slept with|nudes?|naked|porn|touch(?:es|ed|ing)? "
                     r"(?:me|her|him|them|my|his|their)\b|sleep(?:s|ing)? with (?:him|her|them|me)\b|"
                     r"kiss(?:es|ed|ing)?|(?:delete|deleted) the messages|our (?:little )?secret|keep (?:it|this) "
                     r"(?:a )?secret|pregnan\w*|buttoning|undress\w*|changing|do stuff to|makes? me do)\b")
ADULT = re.compile(r"\b(?:(?:he'?s|she'?s|he is|she is|is|aged?) (?:19|[2-9]\d)\b|(?:19|[2-9]\d)[- ]?(?:yo|year[- ]old|"
                   r"years old)|coach|teacher|tutor|adult|grown (?:man|woman)|older (?:man|guy|woman|cousin|brother)|"
                   r"uncle|stepdad|step-dad|stepfather|husband|boyfriend is|my brother|cousin|his friend|guy)\b")


def match_text(text: str) -> list[PatternMatch]:
    """The patterns that need the whole question (a child at risk told across sentences)."""
    normal = FIGURATIVE.sub(" _ ", normalise(text))
    minor = MINOR.search(normal)
    found = []
    if minor and CONTACT.search(normal) and ADULT.search(normal):
        found.append(PatternMatch(MINOR_CONTACT, normal, minor.group(0)))
    threat = IMAGE_THREAT.search(normal)
    if threat and IMAGES.search(normal):
        found.append(PatternMatch(IMAGE_ABUSE, normal, threat.group(0)))
    return found


MINOR_CONTACT = Pattern("minor-contact", "child", MINOR)
IMAGES = re.compile(r"\b(?:nudes|naked (?:photos|pictures|pics)|intimate (?:photos|pictures|images)|private (?:photos|"
                    r"photographs|pictures|pics)|sex tape)\b")
IMAGE_THREAT = re.compile(r"\b(?:post|send|share|leak|show|upload|spread)\w* (?:[\w']+ ){0,6}(?:unless|if i (?:don'?t|"
                          r"won'?t|leave|stop)|or else)|\b(?:threaten\w*|says? (?:he|she)(?:'ll| will)|said (?:he|she)(?:'d| "
                          r"would)) (?:[\w']+ ){0,3}(?:post|send|share|leak|show)")
IMAGE_ABUSE = Pattern("image-threat", "abuse", IMAGE_THREAT)


def match(text: str) -> list[PatternMatch]:
    """Every pattern match in a question, sentence by sentence, then across it."""
    return [found for sentence in sentences(text) for found in match_sentence(sentence)] + match_text(text)


def counted(found: list[PatternMatch], scores: dict[str, float], floor: float) -> list[PatternMatch]:
    """The matches that count beside the classifier's scores for the question. A pattern reads
    words, and "kms this hinge date" or "she's choking out guys at jiu jitsu" match one; the
    classifier reads the sentence and vetoes every match when it gives no concern `floor` or more,
    except a match whose words name the abuse ("an abusive partner", "domestic violence"). Without
    scores (no classifier) every match counts."""
    if found and scores and max(scores.values()) < floor:
        return [m for m in found if m.pattern.names_danger]
    return list(found)
