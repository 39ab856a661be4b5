"""Child-like sentences for measuring redaction: personal details to remove, and game talk to leave alone.

Each personal sentence lists the details that must be gone after redaction and the words around them that must
stay (so that redacting the whole sentence does not count as success). Typed sentences keep their case; spoken
ones are lower case and unpunctuated, as speech recognition returns them.
"""

from __future__ import annotations

from typing import NamedTuple


class Personal(NamedTuple):
    said: str
    secrets: tuple[str, ...]
    kept: tuple[str, ...] = ()


PERSONAL: list[Personal] = [
    # Names after a cue.
    Personal(
        "my name is Emma Johnson and I go to Oak Street Elementary", ("Emma", "Johnson", "Oak Street"), ("and I go to",)
    ),
    Personal("call me Emma Johnson", ("Emma", "Johnson"), ("call me",)),
    Personal("I'm Emma Johnson", ("Emma", "Johnson"), ("I'm",)),
    Personal("I am Oliver Smith and I am seven", ("Oliver", "Smith"), ("and I am seven",)),
    Personal("Hi! I'm Mia. Can you help me?", ("Mia",), ("Can you help me?",)),
    Personal("my name is lily rose and i like cats", ("lily", "rose"), ("and i like cats",)),
    Personal("my name's Noah", ("Noah",), ()),
    Personal("my names jack", ("jack",), ()),
    Personal("hello my name is sophia i am six", ("sophia",), ("i am six",)),
    Personal("My full name is Ava Grace Martinez.", ("Ava", "Grace", "Martinez"), ()),
    Personal("my brother's name is Leo and he is annoying", ("Leo",), ("and he is annoying",)),
    Personal("my mom calls me Bella", ("Bella",), ("my mom calls me",)),
    Personal("you can call me Max please", ("Max",), ("please",)),
    Personal("I'm called Zoe O'Brien", ("Zoe", "O'Brien"), ()),
    Personal("my last name is Nguyen", ("Nguyen",), ()),
    Personal("this is Ethan, I need help", ("Ethan",), ("I need help",)),
    Personal("I am Mary-Jane Watson", ("Mary-Jane", "Watson"), ()),
    Personal("my teacher's name is Mrs. Patel", ("Patel",), ("my teacher's",)),
    Personal("my dog's name is Biscuit", ("Biscuit",), ()),
    Personal("my friend is called Aisha Khan", ("Aisha", "Khan"), ()),
    # Schools.
    Personal("I go to Oak Street Elementary", ("Oak Street",), ("I go to",)),
    Personal("i go to lincoln middle school", ("lincoln",), ("i go to",)),
    Personal("I'm in year two at St. Mary's Primary School", ("Mary's",), ("I'm in year two at",)),
    Personal("my school is Riverside Academy", ("Riverside",), ("my school is",)),
    Personal("we go to Greenfield Kindergarten", ("Greenfield",), ()),
    Personal("i went to sunny hills preschool last year", ("sunny hills",), ("last year",)),
    Personal("Hillcrest High School is where my sister goes", ("Hillcrest",), ("is where my sister goes",)),
    Personal("I go to Maple Grove Montessori", ("Maple Grove",), ()),
    # Addresses.
    Personal("I live at 42 Maple Street with my cat", ("42 Maple",), ()),
    Personal("my address is 17 Birch Road, Springfield", ("17 Birch",), ()),
    Personal("we live on elm avenue", ("elm avenue",), ("we live on",)),
    Personal("i live in twelve oak lane", ("twelve oak",), ()),
    Personal("my house is at 221B Baker Street", ("221B", "Baker"), ()),
    Personal("our postcode is SW1A 1AA", ("SW1A 1AA",), ()),
    Personal("my zip code is 90210", ("90210",), ()),
    Personal("I live at 5 Rose Court and I like it", ("5 Rose",), ("and I like it",)),
    Personal("my granny lives at 9 Willow Way", ("9 Willow",), ("my granny lives at",)),
    Personal("it's at thirty two park road", ("thirty two park",), ()),
    # Phone numbers, written and spoken.
    Personal("call 555-123-4567 please", ("555-123-4567",), ("please",)),
    Personal("my number is +44 20 7946 0958", ("7946", "0958"), ()),
    Personal("my mom's phone is 07700 900123", ("07700", "900123"), ()),
    Personal("five five five one two three four five six seven", ("one two three four",), ()),
    Personal("my phone number is oh seven seven double oh nine", ("seven seven double",), ()),
    Personal("my phone number is 555 0199", ("555 0199",), ()),
    Personal("my dad's number is two oh one five five five zero one two three", ("five five five zero",), ()),
    Personal("ring us on (212) 555 0147 ok", ("212", "0147"), ("ok",)),
    Personal("it's 0 7 9 1 1 1 2 3 4 5 6", ("1 2 3 4 5 6",), ()),
    Personal("my number is nine one two, four four five, six seven eight nine", ("six seven eight nine",), ()),
    # E-mails, written and spoken.
    Personal("my email is sam.lee+games@example.co.uk ok", ("sam.lee", "example"), ("ok",)),
    Personal("it's sam at gmail dot com", ("sam at gmail",), ("it's",)),
    Personal("emma dot johnson at yahoo dot co dot uk", ("emma", "johnson", "yahoo"), ()),
    Personal("my mum's email is jane_doe99@hotmail.com", ("jane_doe99", "hotmail"), ("my mum's email is",)),
    Personal("email me at coolkid2015 at outlook dot com", ("coolkid2015", "outlook"), ("email me",)),
    # Several at once.
    Personal(
        "I'm Lucas Brown, I live at 8 Cherry Lane and my number is 555 867 5309",
        ("Lucas", "Brown", "8 Cherry", "867 5309"),
        ("and my number is",),
    ),
    Personal("hi im jacob", ("jacob",), ()),
    Personal("Im Chloe and this level is hard", ("Chloe",), ("and this level is hard",)),
    Personal("my sister is named Ruby", ("Ruby",), ()),
    Personal("everyone calls me Sunny", ("Sunny",), ()),
    Personal("I'm William Taylor from Pine Ridge Elementary", ("William", "Taylor", "Pine Ridge"), ()),
    Personal("I go to Saint Patrick's School", ("Patrick's",), ()),
    Personal("i live at fourteen willow drive", ("fourteen willow",), ()),
    Personal("my house number is 23 and my street is Acacia Avenue", ("Acacia",), ()),
    Personal("text my dad on 07123456789", ("07123456789",), ("text my dad on",)),
    Personal("the phone number at home is four one five, five five five, two six seven one", ("two six seven",), ()),
    Personal("you can email my mum at lucy dot brown at gmail dot com", ("lucy", "brown", "gmail"), ()),
    Personal(
        "my name is harper and i go to westwood elementary",
        ("harper", "westwood"),
        ("and i go to",),
    ),
]

HARMLESS: list[str] = [
    "how do I open the red door",
    "is it three plus four",
    "I have 2 keys and 3 doors",
    "level 12 is hard",
    "call the dog",
    "I'm stuck",
    "i'm stuck on level three",
    "I'm on level three",
    "I am so confused",
    "I'm not sure what to do",
    "I'm seven years old",
    "I'm Ready!",
    "my name is on the door",
    "my name is written on my bag",
    "call me when the level is done",
    "call me back later",
    "I'm going to try again",
    "this is hard",
    "this is the blue key",
    "I go to school every day",
    "after school I play this game",
    "high school is for big kids",
    "my school has a red door too",
    "we learned this in preschool",
    "I live in a castle in the game",
    "the number is twelve",
    "one two three four five six seven eight nine ten",
    "ten nine eight seven six five four three two one",
    "I counted 1234 stars",
    "is the answer 7 or 8",
    "the code is 4 5 6",
    "at the top there is a door",
    "look at the dragon dot",
    "I want to go home",
    "what's the name of this level",
    "Emma in the game said hi",
    "the street in the game is long",
    "the robot is called Zed",
    "I think the answer is forty two",
    "my favourite number is 100",
    "I got 3 stars on level 2",
    "can you say it again please",
    "I'm happy",
    "I am done",
    "this is fun",
    "I'm at the castle",
    "call me a wizard",
    "the school in the game has ten doors",
    "the password is red blue green",
    "I'm Batman in this game",
    "it's me again",
    "I need two more apples",
    "the dragon lives at the top of the tower",
    "what is a school of fish",
    "five plus five is ten",
]
