"""The fixed vocabularies the discovery index generator (bench/discovery_index.py) draws from:
niches with their words and hashtags and audience profile, countries with languages, cities and
currency, brand handles, and engagement-rate benchmarks by platform and size.
"""

# Age bands as services/discovery/search/filters.AGE_BANDS.
AGE_BANDS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_YOUNG = (0.14, 0.40, 0.28, 0.11, 0.04, 0.02, 0.01)
_ADULT = (0.04, 0.26, 0.36, 0.19, 0.09, 0.04, 0.02)
_OLDER = (0.01, 0.10, 0.30, 0.29, 0.16, 0.09, 0.05)

# name, words (bios and captions), hashtags, female share of the audience, age profile.
NICHES: list[tuple[str, list[str], list[str], float, tuple[float, ...]]] = [
    ("fitness", "workout gym strength training cardio squat deadlift protein gains routine sweat coach muscles hiit mobility".split(),
     "fitness gym workout fitfam strongwomen legday homeworkout".split(), 0.55, _ADULT),
    ("beauty", "makeup skincare serum glow lipstick foundation routine dewy lashes moisturizer palette blush tutorial".split(),
     "beauty makeup skincare glowup motd skincareroutine".split(), 0.85, _YOUNG),
    ("vegan food", "vegan plantbased tofu lentils chickpeas recipe bowl oatmilk tempeh cruelty-free delicious meal prep".split(),
     "vegan plantbased veganrecipes whatveganseat veganfood".split(), 0.68, _ADULT),
    ("baking", "baking sourdough bread cake cookies oven flour butter pastry frosting cupcakes croissant dough".split(),
     "baking homebaking sourdough cakedecorating bakersofinstagram".split(), 0.74, _ADULT),
    ("travel", "travel wanderlust beach mountains roadtrip backpacking hotel flight island adventure explore sunset".split(),
     "travel wanderlust travelgram instatravel travelblogger".split(), 0.58, _ADULT),
    ("gaming", "gaming stream gameplay console pc fps rpg speedrun controller esports loot boss level".split(),
     "gaming gamer twitchstreamer ps5 pcgaming esports".split(), 0.22, _YOUNG),
    ("tech", "tech gadgets smartphone laptop review unboxing software ai coding setup keyboard battery chip".split(),
     "tech gadgets techreview unboxing setup coding".split(), 0.24, _ADULT),
    ("parenting", "parenting toddler baby mom dad family kids bedtime school routine newborn nursery playtime".split(),
     "parenting momlife dadlife familytime toddlerlife".split(), 0.80, _OLDER),
    ("fashion", "fashion outfit style streetwear vintage thrift dress sneakers denim lookbook trend wardrobe".split(),
     "fashion ootd style streetstyle outfitinspo".split(), 0.75, _YOUNG),
    ("finance", "finance investing stocks budget savings etf retirement crypto money debt passive income".split(),
     "personalfinance investing moneytips financialfreedom stocks".split(), 0.35, _ADULT),
    ("home decor", "interior decor living room cozy plants shelf minimalist renovation furniture styling candles".split(),
     "homedecor interiordesign cozyhome homeinspo".split(), 0.78, _OLDER),
    ("gardening", "garden plants seeds harvest compost tomatoes flowers soil greenhouse balcony herbs bloom".split(),
     "gardening plantsofinstagram growyourown gardenlife".split(), 0.64, _OLDER),
    ("pets", "dog cat puppy kitten walk treats vet training rescue adoption paws cuddles".split(),
     "dogsofinstagram catsofinstagram petlovers puppylove".split(), 0.66, _ADULT),
    ("music", "music song guitar piano cover singer producer beat studio concert vocals album".split(),
     "music musician singer cover newmusic".split(), 0.48, _YOUNG),
    ("comedy", "comedy funny sketch prank jokes standup relatable skit memes laugh parody".split(),
     "comedy funny memes skit relatable".split(), 0.45, _YOUNG),
    ("photography", "photography camera lens portrait landscape lightroom golden hour film shot editing prints".split(),
     "photography photooftheday canon sonyalpha filmphotography".split(), 0.42, _ADULT),
    ("diy", "diy crafts handmade woodworking upcycle tools project sewing paint build tutorial".split(),
     "diy handmade crafts woodworking upcycling".split(), 0.62, _OLDER),
    ("wellness", "wellness yoga meditation mindfulness sleep selfcare breathwork calm journaling balance".split(),
     "wellness yoga selfcare mindfulness meditation".split(), 0.79, _ADULT),
    ("cars", "cars engine tuning drift motorsport garage detailing exhaust horsepower track classic".split(),
     "cars carsofinstagram jdm motorsport carlifestyle".split(), 0.12, _ADULT),
    ("outdoor", "hiking camping trail climbing tent backpack summit kayak wilderness gear".split(),
     "hiking camping outdoors optoutside naturelovers".split(), 0.44, _ADULT),
    ("coffee", "coffee espresso latte barista beans roast brew pourover cafe morning".split(),
     "coffee coffeelover latteart espresso".split(), 0.52, _ADULT),
    ("books", "books reading novel fantasy romance library bookshelf review thriller author".split(),
     "bookstagram booktok reading booklover".split(), 0.81, _YOUNG),
    ("running", "running marathon pace trail intervals shoes race tempo training miles".split(),
     "running marathon runnersofinstagram trailrunning".split(), 0.50, _ADULT),
    ("cooking", "cooking recipe dinner pasta spicy kitchen chef homemade grill sauce flavours".split(),
     "cooking recipes foodie homecooking foodporn".split(), 0.63, _ADULT),
    ("sustainability", "sustainable zerowaste recycling thrift climate ethical reuse eco slowfashion compost".split(),
     "sustainability zerowaste ecofriendly slowfashion".split(), 0.72, _ADULT),
]
NICHE_WEIGHTS = [9, 9, 3, 3, 7, 8, 5, 5, 8, 4, 4, 2, 5, 5, 5, 3, 3, 4, 2, 2, 1, 3, 2, 5, 2]

# code, weight, languages (first is the main one), cities, currency, filler words in the language.
COUNTRIES: list[tuple[str, float, list[str], list[str], str, list[str]]] = [
    ("US", 30, ["en", "es"], ["New York", "Los Angeles", "Chicago", "Austin", "Miami", "Seattle", "Denver"], "USD",
     "love life daily my new best favourite sharing tips real honest everyday journey".split()),
    ("GB", 8, ["en"], ["London", "Manchester", "Bristol", "Leeds", "Glasgow", "Brighton"], "GBP",
     "love life daily my new best favourite sharing tips proper lovely honest journey".split()),
    ("DE", 8, ["de", "en"], ["Berlin", "München", "Hamburg", "Köln", "Leipzig", "Stuttgart"], "EUR",
     "liebe leben täglich mein neues bester lieblings teilen tipps ehrlich alltag rezepte".split()),
    ("FR", 6, ["fr", "en"], ["Paris", "Lyon", "Marseille", "Bordeaux", "Lille", "Nantes"], "EUR",
     "amour vie quotidien mon nouveau meilleur préféré partage astuces honnête recettes".split()),
    ("ES", 5, ["es", "en"], ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao"], "EUR",
     "amor vida diario mi nuevo mejor favorito compartir consejos honesto recetas".split()),
    ("IT", 4, ["it", "en"], ["Milano", "Roma", "Napoli", "Torino", "Bologna"], "EUR",
     "amore vita quotidiana mio nuovo migliore preferito condividere consigli ricette".split()),
    ("BR", 7, ["pt", "en"], ["São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "Salvador"], "BRL",
     "amor vida diário meu novo melhor favorito compartilhar dicas receitas".split()),
    ("NL", 2, ["nl", "en"], ["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"], "EUR",
     "liefde leven dagelijks mijn nieuwe beste favoriet delen tips eerlijk recepten".split()),
    ("SE", 1.5, ["sv", "en"], ["Stockholm", "Göteborg", "Malmö", "Uppsala"], "SEK",
     "kärlek livet dagligen min nya bästa favorit dela tips ärlig recept".split()),
    ("IN", 9, ["en", "hi"], ["Mumbai", "Delhi", "Bangalore", "Hyderabad", "Chennai", "Pune"], "INR",
     "love life daily my new best favourite sharing tips honest journey".split()),
    ("MX", 3, ["es", "en"], ["Ciudad de México", "Guadalajara", "Monterrey", "Puebla"], "MXN",
     "amor vida diario mi nuevo mejor favorito compartir consejos recetas".split()),
    ("CA", 3, ["en", "fr"], ["Toronto", "Vancouver", "Montréal", "Calgary", "Ottawa"], "CAD",
     "love life daily my new best favourite sharing tips real honest journey".split()),
    ("AU", 2.5, ["en"], ["Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide"], "AUD",
     "love life daily my new best favourite sharing tips real honest journey".split()),
    ("TR", 2, ["tr", "en"], ["İstanbul", "Ankara", "İzmir", "Antalya"], "TRY",
     "aşk hayat günlük benim yeni en iyi favori paylaşım ipuçları tarifler".split()),
    ("ID", 4, ["id", "en"], ["Jakarta", "Surabaya", "Bandung", "Bali"], "IDR",
     "cinta hidup harian saya baru terbaik favorit berbagi tips resep".split()),
    ("PL", 2, ["pl", "en"], ["Warszawa", "Kraków", "Wrocław", "Gdańsk"], "PLN",
     "miłość życie codziennie mój nowy najlepszy ulubiony dzielić porady przepisy".split()),
    ("AT", 1, ["de", "en"], ["Wien", "Graz", "Salzburg", "Linz"], "EUR",
     "liebe leben täglich mein neues bester lieblings teilen tipps ehrlich alltag".split()),
    ("CH", 1, ["de", "fr", "en"], ["Zürich", "Genève", "Basel", "Bern"], "CHF",
     "liebe leben täglich mein neues bester lieblings teilen tipps ehrlich alltag".split()),
]
# Where the rest of an audience lives, besides the creator's own country.
NEIGHBOURS = {
    "US": ["CA", "GB", "MX", "AU", "IN"], "GB": ["US", "IE", "AU", "CA", "DE"], "DE": ["AT", "CH", "US", "NL", "PL"],
    "FR": ["BE", "CA", "CH", "US", "ES"], "ES": ["MX", "AR", "US", "FR", "IT"], "IT": ["CH", "US", "FR", "DE", "ES"],
    "BR": ["PT", "US", "AR", "MX", "ES"], "NL": ["BE", "DE", "US", "GB", "FR"], "SE": ["NO", "DK", "FI", "US", "GB"],
    "IN": ["US", "AE", "GB", "CA", "BD"], "MX": ["US", "ES", "CO", "AR", "GT"], "CA": ["US", "GB", "FR", "IN", "AU"],
    "AU": ["NZ", "US", "GB", "CA", "IN"], "TR": ["DE", "AZ", "US", "NL", "GB"], "ID": ["MY", "SG", "US", "PH", "AU"],
    "PL": ["DE", "GB", "US", "UA", "NL"], "AT": ["DE", "CH", "IT", "US", "HU"], "CH": ["DE", "FR", "AT", "IT", "US"],
}
COUNTRY_LANGUAGE = {
    "US": "en", "GB": "en", "CA": "en", "AU": "en", "NZ": "en", "IE": "en", "IN": "hi", "DE": "de", "AT": "de",
    "CH": "de", "FR": "fr", "BE": "fr", "ES": "es", "MX": "es", "AR": "es", "CO": "es", "GT": "es", "IT": "it",
    "BR": "pt", "PT": "pt", "NL": "nl", "SE": "sv", "NO": "no", "DK": "da", "FI": "fi", "TR": "tr", "AZ": "az",
    "ID": "id", "MY": "ms", "SG": "en", "PH": "en", "PL": "pl", "UA": "uk", "HU": "hu", "AE": "ar", "BD": "bn",
}

# Brand handles creators mention (lower-case, without '@'); a fifth of captions mention one.
BRANDS = (
    "nike adidas puma lululemon gymshark myprotein sephora glossier fentybeauty loreal nyxcosmetics oatly "
    "alpro beyondmeat kitchenaid lego sony playstation xbox nintendo razer logitech samsung apple anker "
    "hellofresh zara hm shein uniqlo patagonia thenorthface decathlon ikea wayfair dyson nespresso starbucks "
    "lavazza airbnb booking expedia revolut n26 robinhood etoro audible kindle spotify canon gopro "
    "fujifilm chewy royalcanin purina bosch toyota bmw redbull monsterenergy"
).split()

# Engagement rate by follower count, as a fraction, (likes + comments) / followers, by platform:
# a piecewise-linear curve over log10(followers).
# - instagram: HypeAuditor 2018 (~37k Instagram accounts, 90 days), means by size 1k-5k 4.26 %,
#   5k-20k 2.28 %, 20k-100k 1.62 %, 100k-1M 1.55 %, > 1M 1.54 % (hypeauditor.com/blog/
#   what-is-instagram-engagement-rate-and-how-to-calculate-it/), ../REFERENCE.md.
# - tiktok: IQFluence, < 100k 7.50 %, 10M+ 2.88 % (iqfluence.io/public/blog/
#   influencer-marketing-engagement-rate): large TikTok creators keep a high rate.
# - youtube: CreatorIQ / Tribe Dynamics 1.6 % (sponsored posts), flat.
# - the others: assumed, not sourced (x, facebook, linkedin, pinterest low; twitch, snapchat mid).
ER_CURVES: dict[str, list[tuple[float, float]]] = {
    "instagram": [(3.0, 0.0426), (3.7, 0.0426), (4.3, 0.0228), (5.0, 0.0162), (6.0, 0.0155), (7.0, 0.0154)],
    "tiktok": [(3.0, 0.075), (5.0, 0.075), (7.0, 0.0288), (8.0, 0.0288)],
    "youtube": [(3.0, 0.022), (5.0, 0.018), (7.0, 0.016)],
    "x": [(3.0, 0.012), (7.0, 0.004)],
    "twitch": [(3.0, 0.04), (7.0, 0.02)],
    "facebook": [(3.0, 0.010), (7.0, 0.004)],
    "pinterest": [(3.0, 0.008), (7.0, 0.003)],
    "snapchat": [(3.0, 0.03), (7.0, 0.015)],
    "linkedin": [(3.0, 0.025), (7.0, 0.008)],
}
PLATFORMS = list(ER_CURVES)
PLATFORM_WEIGHTS = [0.45, 0.25, 0.12, 0.05, 0.04, 0.03, 0.03, 0.015, 0.015]
POST_TYPES = {
    "instagram": ["photo", "reel", "carousel", "reel"], "tiktok": ["video"], "youtube": ["video", "short"],
    "x": ["text", "photo"], "twitch": ["live", "video"], "facebook": ["photo", "video", "text"],
    "pinterest": ["photo"], "snapchat": ["story", "video"], "linkedin": ["text", "photo"],
}
# Price of one deliverable per 1,000 followers, in the creator's currency (assumed, not sourced;
# order of magnitude of public rate cards: ~10 per 1k followers for an Instagram post).
DELIVERABLES = {
    "instagram": [("post", 10.0), ("story", 4.0), ("reel", 14.0)], "tiktok": [("video", 9.0)],
    "youtube": [("video", 20.0), ("short", 6.0)], "x": [("post", 3.0)], "twitch": [("stream", 12.0)],
    "facebook": [("post", 5.0)], "pinterest": [("pin", 3.0)], "snapchat": [("story", 4.0)],
    "linkedin": [("post", 15.0)],
}
ADJECTIVES = "the real daily little happy wild urban cozy simply just its hey".split()
