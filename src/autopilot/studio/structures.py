"""Proven post structures: the shapes that carry most consultants' LinkedIn posts, each a set of parts
(hook, body, turn, takeaway, call to action) with several phrasings per part, written for this product.

A phrasing is a `str.format` template over a few fields, and nothing else:
  {topic} {Topic}      the request's topic (as typed; {Topic} with its first letter capitalised)
  {audience}           who the author writes for ("anyone working on <topic>" when the profile says nothing)
  {I} {i} {me} {my} {My} {Im} {im} {Ive} {ive} {was} {am} {myself}
                       the author's person: "I, me, my, I'm …" or, for a voice that writes "we", "We, us, our, we're …"
                       ({I}/{Im}/{Ive}/{My} start a sentence, {i}/{im}/{ive} sit inside one)
The key points are not a field: the body's lead-in is followed by the points, laid out in the
structure's `points` style. Sentences joined by " — " or "; " are split in two for a voice that
writes short sentences. No phrasing holds "#", brackets or braces other than its fields
(tests/studio/test_structures.py checks the whole library)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PointsStyle = Literal["arrows", "numbered", "steps", "story", "myths", "before_after"]
PART_NAMES = ("hook", "context", "body", "turn", "takeaway", "cta")


@dataclass(frozen=True)
class Structure:
    key: str
    name: str
    description: str
    hooks: tuple[str, ...]
    intros: tuple[str, ...]  # the body's lead-in; the key points follow it
    points: PointsStyle
    turns: tuple[str, ...]
    takeaways: tuple[str, ...]
    questions: tuple[str, ...]  # calls to action that ask (for a voice that asks questions)
    statements: tuple[str, ...]  # calls to action that do not

    def parts(self) -> dict[str, tuple[str, ...]]:
        """Each part's phrasings, by part name (the call to action's two kinds together)."""
        return {
            "hook": self.hooks,
            "context": CONTEXTS,
            "body": self.intros,
            "turn": self.turns,
            "takeaway": self.takeaways,
            "cta": self.questions + self.statements,
        }


# Where the author's "about" goes (a part of its own, left out when the profile has none). The about
# text follows the colon as the author wrote it, so any sentence reads.
CONTEXTS = (
    "Some context: {about}",
    "Where {im} coming from: {about}",
    "Why this matters to {me}: {about}",
)

# The myths a myth-vs-fact post sets its facts (the key points) against, in the order the seed picks.
MYTHS = (
    "{Topic} is a tooling problem.",
    "{Topic} can wait until the team is bigger.",
    "{Topic} is a one-off project.",
    "{Topic} is someone else's job.",
    "Doing {topic} well takes a big budget.",
    "Everyone already agrees on what {topic} means.",
    "{Topic} only matters to large companies.",
    "Once {topic} works, it stays working.",
)

# When a request gives no key points: general, true-for-most-topics points, three picked by the seed.
FALLBACK_POINTS = (
    "Start with the problem you can measure, not with the tool",
    "Make one change at a time, so you know which one worked",
    "Write down the decision and the reason behind it",
    "Ask the people closest to the work before you plan it",
    "Keep the first version small enough to finish in two weeks",
    "Check the result a month later, not only on launch day",
    "Say no to the second priority until the first one is done",
)

STRUCTURES: tuple[Structure, ...] = (
    Structure(
        key="story",
        name="Story",
        description="A moment that happened, what it showed, and what you do differently now.",
        hooks=(
            "Last year {i} got {topic} badly wrong.",
            "The day {topic} stopped being theory for {me} started with one phone call.",
            "{I} still remember the meeting where {topic} went sideways.",
            "Nobody warned {me} about this part of {topic}.",
        ),
        intros=(
            "Here is how it unfolded:",
            "What happened, in order:",
            "The short version:",
        ),
        points="story",
        turns=(
            "Looking back, the warning signs were there from the first week.",
            "The fix was not technical; it was a conversation {i} had put off for months.",
            "None of this was in the plan — and that was the real lesson.",
        ),
        takeaways=(
            "{Topic} rewards the people who look early and say it out loud.",
            "The story is never about the tool; it is about the decisions around it.",
            "Now {i} treat every surprise in {topic} as information, not as bad luck.",
        ),
        questions=(
            "What is the moment that changed how you see {topic}?",
            "Has something like this happened to you? How did you handle it?",
            "What would you have done in {my} place?",
        ),
        statements=(
            "If you are in the middle of something similar, my messages are open.",
            "Save this for the day it happens to you.",
            "Share it with someone who is about to start on {topic}.",
        ),
    ),
    Structure(
        key="lesson",
        name="Lesson learned",
        description="One lesson, the experience that taught it, and how to apply it.",
        hooks=(
            "The most expensive lesson {i} learned about {topic} cost {me} six months.",
            "It took {me} years to learn this about {topic}.",
            "One lesson about {topic} {i} wish {i} had learned earlier:",
            "{Ive} made every beginner mistake with {topic}. This one mattered most.",
        ),
        intros=(
            "What {i} learned:",
            "The lesson, broken down:",
            "Here is what stuck:",
        ),
        points="arrows",
        turns=(
            "The hard part was not knowing this; it was acting on it when it was inconvenient.",
            "Most of this sounds obvious — until a deadline is close.",
            "{I} did not learn it from a book; {i} learned it from getting it wrong.",
        ),
        takeaways=(
            "Learn it once, write it down, and make it the default for the team.",
            "The lesson is cheap to read and expensive to learn first hand.",
            "If you remember one thing about {topic}, make it this.",
        ),
        questions=(
            "What is the lesson about {topic} you learned the hard way?",
            "Which of these took you the longest to learn?",
            "What would you add to this list?",
        ),
        statements=(
            "Pass it on to someone starting out with {topic}.",
            "Bookmark it for your next retrospective.",
            "Follow along: {i} share one lesson like this every week.",
        ),
    ),
    Structure(
        key="contrarian",
        name="Contrarian take",
        description="A common belief, why you disagree, and what you suggest instead.",
        hooks=(
            "Unpopular opinion: most advice about {topic} is wrong.",
            "{I} disagree with the way most teams approach {topic}.",
            "Everyone says {topic} is about doing more. {I} think it is about doing less.",
            "Here is a take on {topic} that will not make {me} popular.",
        ),
        intros=(
            "Here is why:",
            "{My} reasons:",
            "What {i} see instead:",
        ),
        points="arrows",
        turns=(
            "The popular advice is not stupid; it just fits a different kind of team.",
            "{Im} not saying the usual playbook never works — {im} saying it is not the default.",
            "Yes, this goes against what most conference talks say.",
        ),
        takeaways=(
            "Question the default before you copy it.",
            "Good practice for someone else can be bad practice for you.",
            "The best answer about {topic} is usually the boring one that fits your context.",
        ),
        questions=(
            "Where do you stand on this? Tell {me} why {im} wrong.",
            "Agree or disagree? {Im} genuinely curious.",
            "Which part of the usual advice about {topic} do you question?",
        ),
        statements=(
            "Push back in the comments; that is where the interesting part starts.",
            "If this helped you think, share it with your team.",
            "{I} will follow up with the counter-arguments next week.",
        ),
    ),
    Structure(
        key="case_study",
        name="Case study",
        description="A client situation, what was done, and the measurable result.",
        hooks=(
            "A client came to {me} with a problem: {topic} was slowing everything down.",
            "How one team turned {topic} around in three months.",
            "Case study: what changed when a team took {topic} seriously.",
            "Three months ago this team was stuck on {topic}. Here is what they did.",
        ),
        intros=(
            "What we did:",
            "The plan, step by step:",
            "The changes that made the difference:",
        ),
        points="numbered",
        turns=(
            "The result was not instant; the first month looked like nothing was happening.",
            "What surprised everyone was how little of it was about technology.",
            "The hardest step was the first one — agreeing on what to measure.",
        ),
        takeaways=(
            "Small, measured changes beat a big rewrite almost every time.",
            "The team already knew most of the answers; it needed room to act on them.",
            "{Topic} improves when someone owns it and the numbers are visible.",
        ),
        questions=(
            "Which of these steps would be hardest in your team?",
            "Have you seen a turnaround like this? What made it work?",
            "What would you have done first?",
        ),
        statements=(
            "If your team is facing the same thing, send {me} a message.",
            "Share this with the person in your team who owns {topic}.",
            "Save it as a checklist for your next project.",
        ),
    ),
    Structure(
        key="checklist",
        name="Checklist",
        description="A short list to run through before or during a piece of work.",
        hooks=(
            "A checklist for {topic} that {i} use with every client:",
            "Before you start on {topic}, run through this list.",
            "{My} {topic} checklist, refined over many projects:",
            "Print this before your next {topic} review.",
        ),
        intros=(
            "The list:",
            "Check each one:",
            "Go through these in order:",
        ),
        points="numbered",
        turns=(
            "If you can tick all of them, you are ahead of most teams.",
            "Missing one is normal; missing three is a warning sign.",
            "The list is short on purpose — long checklists do not get used.",
        ),
        takeaways=(
            "A checklist does not make you slower; it makes you repeatable.",
            "The value is not the list; it is running it every single time.",
            "Copy it, change it, make it yours.",
        ),
        questions=(
            "What is missing from this list?",
            "Which item do teams skip most often, in your experience?",
            "How many can you tick today?",
        ),
        statements=(
            "Save it for your next {topic} project.",
            "Share it with your team before the next planning session.",
            "Repost it if it would help someone in your network.",
        ),
    ),
    Structure(
        key="question",
        name="Question to the audience",
        description="An open question, your current thinking, and an invitation to answer.",
        hooks=(
            "A question for everyone working on {topic}:",
            "{Im} rethinking how {i} approach {topic}, and {i} would like your view.",
            "Honest question about {topic}, no right answer expected.",
            "{Ive} been going back and forth on {topic} for weeks.",
        ),
        intros=(
            "{My} current thinking:",
            "Where {im} at so far:",
            "What {i} have considered:",
        ),
        points="arrows",
        turns=(
            "Each of these makes sense on its own; together they pull in different directions.",
            "{I} can argue for every one of them — which is exactly the problem.",
            "The answer probably depends on context, so {i} would like to hear yours.",
        ),
        takeaways=(
            "{I} will share what {i} learn from your answers.",
            "The best input usually comes from people who disagree with {me}.",
            "There is no single right answer; there are better and worse fits.",
        ),
        questions=(
            "How do you handle {topic} in your team?",
            "What would you do in this situation?",
            "Which of these would you choose, and why?",
        ),
        statements=(
            "Leave your view in the comments; {i} read every one.",
            "Tag someone whose opinion on {topic} you trust.",
            "Answers in the comments, please — even short ones help.",
        ),
    ),
    Structure(
        key="behind_the_scenes",
        name="Behind the scenes",
        description="How the work really happens: the parts people do not usually show.",
        hooks=(
            "What {topic} looks like behind the scenes:",
            "The part of {topic} nobody posts about.",
            "A look at how {i} actually work on {topic}, unpolished.",
            "People see the result. Here is what {topic} looked like this week.",
        ),
        intros=(
            "What the week actually looked like:",
            "The unglamorous parts:",
            "What happens before anything ships:",
        ),
        points="arrows",
        turns=(
            "Most of it is waiting, checking, and asking the same question twice.",
            "None of this makes a good slide — and it is where the quality comes from.",
            "It is slower than it looks from the outside; that is fine.",
        ),
        takeaways=(
            "The visible result is the smallest part of the work.",
            "Good {topic} is mostly invisible, and that is the point.",
            "Show the process, not only the outcome; it builds more trust.",
        ),
        questions=(
            "What does the unseen part of your work look like?",
            "Would you like more posts like this one?",
            "Which part surprised you?",
        ),
        statements=(
            "Follow along for more of the unpolished side of {topic}.",
            "Share it with someone who thinks this work is quick.",
            "{I} will share the finished result next week.",
        ),
    ),
    Structure(
        key="how_to",
        name="How-to",
        description="Clear steps to get a specific result.",
        hooks=(
            "How to get started with {topic} in one afternoon:",
            "A simple way to make {topic} work, step by step.",
            "If {topic} feels overwhelming, start here.",
            "The steps {i} follow every time {i} set up {topic}:",
        ),
        intros=(
            "The steps:",
            "Here is the process:",
            "Do these in order:",
        ),
        points="steps",
        turns=(
            "Do not skip a step to save time — that is where the time gets lost.",
            "It looks simple written down; the discipline is in doing it every time.",
            "Expect the first run to feel slow. The second one will not.",
        ),
        takeaways=(
            "Simple steps, done consistently, beat clever ones done once.",
            "Start with the first step today; the rest gets easier.",
            "Once it works, write it down so the next person does not start from zero.",
        ),
        questions=(
            "Which step would you add or change?",
            "What is the first step you would take?",
            "Have you tried something like this? How did it go?",
        ),
        statements=(
            "Save it for the next time you start on {topic}.",
            "Share it with someone who is about to try this.",
            "Try it this week and tell {me} how it went.",
        ),
    ),
    Structure(
        key="myth_vs_fact",
        name="Myth vs fact",
        description="Common beliefs set straight, one fact at a time.",
        hooks=(
            "Myths about {topic} {i} hear every month, and what is actually true.",
            "Let's clear up a few things about {topic}.",
            "{Topic}: what people believe versus what {i} see in practice.",
            "Some of the most repeated advice about {topic} is simply not true.",
        ),
        intros=(
            "Myth versus fact:",
            "What people say, and what is true:",
            "Setting the record straight:",
        ),
        points="myths",
        turns=(
            "Myths survive because they are partly true somewhere.",
            "{I} believed some of these {myself} — for years.",
            "None of these myths is harmless; each one costs time.",
        ),
        takeaways=(
            "Test the belief before you build on it.",
            "The facts are less exciting than the myths and far more useful.",
            "When in doubt, measure it in your own context.",
        ),
        questions=(
            "Which myth about {topic} would you add?",
            "Which of these did you believe the longest?",
            "What is the most persistent myth in your field?",
        ),
        statements=(
            "Share it with someone who still believes one of these.",
            "Save it for the next time the myth comes up in a meeting.",
            "Repost it to help someone avoid the same trap.",
        ),
    ),
    Structure(
        key="before_after",
        name="Before and after",
        description="Where things stood, what changed, and where they stand now.",
        hooks=(
            "A year ago {topic} looked very different for {me}.",
            "Before and after: what changed in how {i} handle {topic}.",
            "{Topic}, then and now.",
            "The same team, the same people, a very different result with {topic}.",
        ),
        intros=(
            "What changed:",
            "The differences that mattered:",
            "From before to after:",
        ),
        points="before_after",
        turns=(
            "None of these changes was big on its own.",
            "It took longer than expected — and it was worth it.",
            "The before was not bad; it just stopped fitting.",
        ),
        takeaways=(
            "Progress is a pile of small changes that nobody notices one at a time.",
            "Compare yourself with last year, not with someone else's highlight reel.",
            "If you do not write down the before, you will not see the after.",
        ),
        questions=(
            "What does your before and after look like?",
            "Which change would make the biggest difference for you?",
            "Where are you on this path today?",
        ),
        statements=(
            "Share it with someone who is still in the before.",
            "Save it and check back in a year.",
            "Send {me} a message if you want to talk through your own before.",
        ),
    ),
    Structure(
        key="mistakes",
        name="Mistakes I made",
        description="Honest mistakes, what each one cost, and what you do now.",
        hooks=(
            "Mistakes {i} made with {topic}, so you do not have to:",
            "{I} got {topic} wrong more than once. Here is the list.",
            "The mistakes that taught {me} the most about {topic}:",
            "{My} worst decisions about {topic}, in one post.",
        ),
        intros=(
            "The mistakes, and what each one taught {me}:",
            "Where {i} went wrong:",
            "What {i} would undo:",
        ),
        points="numbered",
        turns=(
            "Every one of these seemed reasonable at the time.",
            "The cost was rarely money; it was time and trust.",
            "{I} still catch {myself} drifting back to some of them.",
        ),
        takeaways=(
            "Mistakes are only expensive when you repeat them.",
            "Write your mistakes down; they are the best training material you own.",
            "Being wrong early is cheaper than being wrong late.",
        ),
        questions=(
            "Which mistake about {topic} taught you the most?",
            "Have you made any of these? Which one hurt most?",
            "What mistake would you add?",
        ),
        statements=(
            "Share it with someone about to make one of these.",
            "Save it for your next project kick-off.",
            "Follow for the lessons that came after these mistakes.",
        ),
    ),
    Structure(
        key="framework",
        name="Framework",
        description="A named, repeatable way of thinking about a problem.",
        hooks=(
            "The framework {i} use for {topic}, in one post:",
            "A simple framework for {topic} that fits on a sticky note.",
            "When {topic} gets messy, {i} come back to this framework.",
            "{My} mental model for {topic}:",
        ),
        intros=(
            "The framework:",
            "It has a few parts:",
            "Here is how it works:",
        ),
        points="steps",
        turns=(
            "It is not perfect; it is useful, which matters more.",
            "The framework does not decide for you — it makes the decision visible.",
            "Teams usually skip the second part; that is where most of the value is.",
        ),
        takeaways=(
            "A framework is worth it when it makes the next decision faster.",
            "Use it as a starting point, then bend it to your context.",
            "Simple enough to remember is better than complete.",
        ),
        questions=(
            "What framework do you use for {topic}?",
            "Which part would you change for your team?",
            "Would this work in your context?",
        ),
        statements=(
            "Save it and try it on your next decision about {topic}.",
            "Share it with the person in your team who loves a good model.",
            "{I} will share a worked example in a follow-up post.",
        ),
    ),
)

BY_KEY = {structure.key: structure for structure in STRUCTURES}
