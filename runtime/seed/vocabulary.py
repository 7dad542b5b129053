"""The words and reference figures a demo creator is made of: platforms and their shares, the
published engagement rates, countries and cities, niches and their topics, names, and the parts of
a fan's comment. Data only: creator.py draws from it."""

PLATFORMS = (("instagram", 45), ("tiktok", 25), ("youtube", 12), ("x", 5), ("twitch", 4), ("facebook", 3),
             ("pinterest", 3), ("snapchat", 2), ("linkedin", 1))
# Reference engagement rate (percent) by platform and tier: audit's engagement-v1.csv, where one is
# published; 1.5 % elsewhere (audit judges no peers there).
ER_REFERENCE = {
    "instagram": {"nano": 4.26, "micro": 1.62, "mid": 1.55, "macro": 1.55, "mega": 1.54},
    "tiktok": {"nano": 7.5, "micro": 7.5, "mid": 4.65, "macro": 4.65, "mega": 3.5},
    "youtube": {"nano": 1.6, "micro": 1.6, "mid": 1.6, "macro": 1.6, "mega": 1.6},
}
POST_TYPES = {"instagram": ("photo", "reel", "carousel"), "tiktok": ("short",), "youtube": ("video", "short"),
              "x": ("text", "photo"), "twitch": ("live", "video"), "facebook": ("photo", "video"),
              "pinterest": ("photo",), "snapchat": ("story",), "linkedin": ("text",)}
PLACES = (  # country, share, language, cities
    ("US", 30, "en", ("New York", "Los Angeles", "Austin", "Chicago")),
    ("GB", 12, "en", ("London", "Manchester", "Bristol")),
    ("DE", 12, "de", ("Berlin", "Munich", "Hamburg")),
    ("FR", 9, "fr", ("Paris", "Lyon", "Marseille")),
    ("ES", 8, "es", ("Madrid", "Barcelona", "Valencia")),
    ("BR", 7, "pt", ("São Paulo", "Rio de Janeiro")),
    ("IT", 6, "it", ("Milan", "Rome")),
    ("NL", 4, "nl", ("Amsterdam", "Utrecht")),
    ("CA", 6, "en", ("Toronto", "Vancouver")),
    ("AU", 6, "en", ("Sydney", "Melbourne")),
)
NICHES = {
    "beauty": ("serum", "skincare routine", "glow", "lipstick", "sunscreen", "retinol", "makeup look"),
    "fitness": ("leg day", "protein", "mobility", "running", "kettlebell", "personal best", "stretching"),
    "food": ("sourdough", "vegan baking", "meal prep", "ramen", "street food", "brunch", "cake"),
    "travel": ("hidden beaches", "train journeys", "backpacking", "city guide", "sunrise hike", "road trip"),
    "gaming": ("speedrun", "boss fight", "patch notes", "co-op", "retro console", "ranked"),
    "fashion": ("capsule wardrobe", "thrifted", "street style", "denim", "outfit", "sneakers"),
    "tech": ("mechanical keyboard", "desk setup", "smartphone review", "home lab", "camera test"),
    "parenting": ("toddler", "school lunch", "bedtime routine", "family trip", "busy parents"),
    "outdoors": ("trail running", "wild camping", "climbing", "kayak", "mountain hut", "gear list"),
    "finance": ("budgeting", "index funds", "side hustle", "saving tips", "first home"),
}
FIRST = ("ana", "leo", "maya", "noah", "zoe", "ivan", "lina", "omar", "sara", "theo", "yuki", "ella", "finn",
         "jade", "luca", "mila", "nora", "otto", "rosa", "sam", "tara", "vera", "will", "aiko", "ben", "cleo")
FANS = ("sun", "wave", "pixel", "maple", "river", "cloud", "fern", "amber", "echo", "nova", "sage", "birch")
# A fan's comment: an opener, a remark on the post's topic and a closer, so that two fans rarely
# write the same words (audit flags text repeated across posts or creators).
OPENERS = ("ok", "honestly", "wait", "omg", "hey", "so", "right", "haha", "ooh", "yes", "hmm", "love that", "agreed",
           "same here", "finally", "wow ok", "lol", "ahh", "oh nice", "real talk")
REMARKS = (
    "where did you get the {w}", "trying the {w} this weekend", "how long did the {w} take you",
    "your {w} tips changed my week", "is the {w} good for beginners", "saving this {w} for later",
    "the {w} part was so good", "can you do a longer one on {w}", "my sister needs this {w} idea",
    "first time seeing {w} done like this", "been looking for {w} advice all {d}", "tried your {w} on {d}",
    "the {w} bit made me laugh", "need a {w} update next {d}",
)
CLOSERS = ("thanks!", "🙏", "can't wait", "more please", "!!", "so helpful", "great tip", "😂", "noted",
           "from {c}", "greetings from {c}", "💚", "⭐", "bookmarked", "you're the best", "")
TALLIES = ("watched it {n} times", "day {n} of trying this", "{n} minutes well spent", "my {n}th attempt",
           "{n} of us at work love this", "tried it {n} days in a row")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "week", "month", "year")
COMMENT_PLACES = ("lisbon", "denver", "leeds", "cologne", "nantes", "seville", "porto", "turin", "rotterdam",
                  "calgary", "perth", "osaka", "krakow", "dublin", "austin", "quebec")
# Stock phrases real fans write too; under three words, as audit counts a repeated text only from three.
GENERIC_COMMENTS = ("love this", "great post!", "nice", "wow", "amazing 😍", "so cool", "🔥🔥")
AGE_BANDS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
