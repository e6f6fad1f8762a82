"""Regenerate the small data files that the sample notebooks read.

    python make_data.py            # writes into ./data next to this script
    python make_data.py OUT_DIR    # writes somewhere else (the tests compare the two)

Only the standard library is used and every generator is seeded, so the files are
byte-for-byte reproducible.
"""

import csv
import json
import math
import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

SEED = 20240601


def _write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_json(path, payload):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def make_churn(out, rng):
    """Telecom-style customer table; `total_charges` is blank for brand-new customers and a few glitches."""
    snapshot = date(2024, 6, 30)
    rows = []
    for i in range(1, 401):
        tenure = min(int(rng.expovariate(1 / 22)), 72)
        signup = snapshot - timedelta(days=int(tenure * 30.4) + rng.randint(0, 29))
        contract = rng.choices(["month-to-month", "one-year", "two-year"], [0.55, 0.25, 0.20])[0]
        payment = rng.choice(["electronic check", "credit card", "bank transfer", "mailed check"])
        internet = rng.choices(["fiber", "dsl", "none"], [0.45, 0.35, 0.20])[0]
        base = {"fiber": 85.0, "dsl": 55.0, "none": 22.0}[internet]
        monthly = round(max(15.0, rng.gauss(base, base * 0.12)), 2)
        total = "" if tenure == 0 or rng.random() < 0.015 else round(monthly * tenure * rng.uniform(0.95, 1.05), 2)
        calls = min(int(rng.expovariate(1 / 1.6)), 9)
        logit = (
            -1.6
            + {"month-to-month": 1.4, "one-year": -0.2, "two-year": -1.3}[contract]
            - 0.035 * tenure
            + 0.38 * calls
            + (0.6 if internet == "fiber" else 0.0)
            + (0.5 if payment == "electronic check" else 0.0)
        )
        churned = int(rng.random() < _sigmoid(logit))
        rows.append([f"C{i:05d}", signup.isoformat(), tenure, monthly, total, contract, payment, internet, calls, churned])
    _write_csv(
        out / "churn.csv",
        ["customer_id", "signup_date", "tenure_months", "monthly_charges", "total_charges", "contract",
         "payment_method", "internet_service", "support_calls", "churned"],
        rows,
    )


def make_sales(out, rng):
    """40 weeks x 4 stores x 2 categories of unit sales, plus a small store table."""
    stores = [
        ("S01", "Leeds", "North", 2011, 1250),
        ("S02", "York", "North", 2016, 860),
        ("S03", "Bristol", "South", 2009, 1420),
        ("S04", "Brighton", "South", 2019, 720),
    ]
    _write_csv(out / "stores.csv", ["store_id", "city", "region", "opened", "floor_area_m2"], stores)
    prices = {"beverages": 2.40, "snacks": 1.85}
    start = date(2024, 1, 1)
    rows = []
    for week in range(40):
        week_start = start + timedelta(weeks=week)
        season = 1.0 + 0.25 * math.sin(2 * math.pi * (week - 8) / 52)
        for store_id, _, _, _, area in stores:
            for category, price in prices.items():
                promo = int(rng.random() < 0.15)
                level = area * (0.55 if category == "beverages" else 0.4)
                units = int(max(0, rng.gauss(level * season * (1.3 if promo else 1.0), level * 0.08)))
                unit_price = round(price * (0.85 if promo else 1.0) * rng.uniform(0.98, 1.02), 2)
                rows.append([week_start.isoformat(), store_id, category, units, unit_price, promo])
    _write_csv(out / "sales.csv", ["week_start", "store_id", "category", "units", "unit_price", "promo"], rows)


def make_customers(out, rng):
    """Retail customers drawn from four loose segments."""
    centres = [  # age, income (k), spending score, visits per month, online share
        (24, 32, 78, 6.5, 0.75),
        (41, 88, 72, 3.0, 0.45),
        (52, 95, 22, 1.5, 0.20),
        (35, 45, 40, 2.5, 0.55),
    ]
    rows = []
    for i in range(1, 241):
        age, income, score, visits, online = centres[rng.randrange(len(centres))]
        rows.append([
            f"K{i:04d}",
            max(18, int(rng.gauss(age, 6))),
            round(max(12.0, rng.gauss(income, 9)), 1),
            min(100, max(1, int(rng.gauss(score, 9)))),
            round(max(0.2, rng.gauss(visits, 0.9)), 1),
            round(min(1.0, max(0.0, rng.gauss(online, 0.1))), 2),
        ])
    _write_csv(
        out / "customers.csv",
        ["customer_id", "age", "annual_income_k", "spending_score", "visits_per_month", "online_share"],
        rows,
    )


def make_sensors(out, rng):
    """Half-hourly readings of three sensors over two days, with the usual glitches."""
    start = datetime(2024, 3, 1)
    readings = []
    for sensor_id, base_t in (("T-101", 21.0), ("T-102", 23.5), ("T-103", 19.0)):
        for step in range(96):
            ts = start + timedelta(minutes=30 * step)
            daily = 2.0 * math.sin(2 * math.pi * (step % 48 - 12) / 48)
            temperature = round(base_t + daily + rng.gauss(0, 0.3), 2)
            humidity = round(45 + 8 * math.cos(2 * math.pi * step / 48) + rng.gauss(0, 1.5), 1)
            status = "ok"
            r = rng.random()
            if r < 0.02:
                temperature = -999.0
            elif r < 0.03:
                status = "fault"
            if rng.random() < 0.03:
                humidity = None
            readings.append({
                "sensor_id": sensor_id,
                "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "temperature_c": temperature,
                "humidity_pct": humidity,
                "status": status,
            })
    _write_json(out / "sensors.json", {"site": "plant-3", "exported_at": "2024-03-03T00:05:00Z", "readings": readings})
    _write_json(out / "calibration.json", {
        "calibrated_at": "2024-02-28",
        "offsets": {"T-101": -0.4, "T-102": 0.25, "T-103": 0.0},
        "scale": 1.0,
    })


POSITIVE = [
    "works exactly as described", "great value for the money", "arrived quickly and well packed",
    "battery lasts all week", "really easy to set up", "the sound is crisp and clear",
    "would happily buy again", "my kids love it", "solid build quality", "customer service was helpful",
    "looks even better in person", "does the job perfectly",
]
NEGATIVE = [
    "stopped working after a week", "a waste of money", "arrived damaged and late",
    "battery dies within hours", "the instructions make no sense", "the sound is tinny and distorted",
    "would not recommend it", "cheap plastic that cracked", "support never answered my emails",
    "looks nothing like the photos", "had to return it", "the app keeps crashing",
]
PRODUCTS = ["headphones", "kettle", "speaker", "tablet case", "desk lamp", "smart plug"]
STOPWORDS = [
    "a", "about", "after", "all", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "did", "do", "does", "even", "for", "from", "had", "has", "have", "i", "in", "into", "is", "it", "its",
    "just", "me", "my", "of", "on", "or", "our", "so", "than", "that", "the", "their", "them", "then",
    "there", "this", "to", "was", "we", "were", "what", "when", "which", "with", "within", "you", "your",
]


def make_reviews(out, rng):
    """Short product reviews from phrase templates; some mix praise and complaints."""
    rows = []
    for i in range(1, 301):
        positive = rng.random() < 0.55
        own, other = (POSITIVE, NEGATIVE) if positive else (NEGATIVE, POSITIVE)
        phrases = rng.sample(own, rng.randint(1, 3))
        if rng.random() < 0.2:
            phrases.insert(rng.randint(0, len(phrases)), rng.choice(other))
        product = rng.choice(PRODUCTS)
        text = f"The {product}: " + ", ".join(phrases) + rng.choice([".", "!", ". Overall OK.", ""])
        rating = rng.choice([4, 5]) if positive else rng.choice([1, 2])
        rows.append([i, product, rating, text, "positive" if positive else "negative"])
    _write_csv(out / "reviews.csv", ["review_id", "product", "rating", "text", "sentiment"], rows)
    (out / "stopwords.txt").write_text("\n".join(STOPWORDS) + "\n", encoding="utf-8")


def make_web_sessions(out, rng):
    """Website sessions with the landing route and how far into the signup funnel each got."""
    landings = ["/", "/pricing", "/blog/how-to-forecast-demand", "/blog/pandas-tips", "/docs/getting-started"]
    referrers = ["https://www.google.com/", "https://news.ycombinator.com/", "https://www.linkedin.com/", ""]
    funnel = ["/", "/pricing", "/signup", "/welcome"]
    start = datetime(2024, 5, 1)
    rows = []
    for i in range(1, 361):
        started = start + timedelta(minutes=rng.randint(0, 28 * 24 * 60 - 1))
        landing = rng.choices(landings, [0.35, 0.2, 0.2, 0.15, 0.1])[0]
        device = rng.choices(["desktop", "mobile", "tablet"], [0.55, 0.38, 0.07])[0]
        depth = 0
        for p in (0.55, 0.35, 0.6):
            if rng.random() < p + (0.1 if device == "desktop" else 0.0):
                depth += 1
            else:
                break
        pages = depth + 1 + int(rng.expovariate(1 / 2))
        duration = int(pages * rng.uniform(20, 90))
        rows.append([
            f"s{i:05d}", started.strftime("%Y-%m-%d %H:%M:%S"), landing, rng.choice(referrers), device,
            pages, duration, funnel[depth], rng.choices([0, 1, 2], [0.9, 0.08, 0.02])[0], int(depth == 3),
        ])
    _write_csv(
        out / "web_sessions.csv",
        ["session_id", "started_at", "landing_page", "referrer", "device", "pages_viewed", "duration_s",
         "furthest_step", "password_reset_count", "converted"],
        rows,
    )


def main(argv):
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "data"
    out.mkdir(parents=True, exist_ok=True)
    for i, make in enumerate([make_churn, make_sales, make_customers, make_sensors, make_reviews, make_web_sessions]):
        make(out, random.Random(SEED + i))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
