"""The Arabic fixture: Arabic and Urdu replies, some mixed with English, numbers and a URL.

Used by the tests of each platform's rendering and of the report. ``NHS`` holds a valid NHS
number (943 476 5919) that redaction must catch in the Arabic text around it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.cli import ROOT

# Every mark a display may add: none of them may reach what is stored or exported as data.
MARKS = frozenset("\u200e\u200f\u2066\u2067\u2068\u2069")

# I think health data should stay with the doctor.
PLAIN = "أعتقد أن البيانات الصحية يجب أن تبقى عند الطبيب."
# Dr Smith said 3 in 10 patients do not know that.
NAME_NUMBER = "قال الدكتور Smith إن 3 من كل 10 مرضى لا يعرفون ذلك."
# I read about it at (a link) a week ago.
URL = "قرأت عن ذلك في https://www.nhs.uk/your-nhs-data-matters/ قبل أسبوع."
# My NHS number is 943 476 5919 and I do not want to share it.
NHS = "رقمي في الخدمة الصحية هو 943 476 5919 ولا أريد مشاركته."
# (Urdu) I think they should ask us before sharing data.
URDU = "میرا خیال ہے کہ ڈیٹا شیئر کرنے سے پہلے ہم سے پوچھنا چاہیے۔"
# (Urdu) I trust my GP, but not 2 companies.
URDU_MIXED = "مجھے GP پر بھروسہ ہے، لیکن 2 کمپنیوں پر نہیں۔"
# Health is a crown on the heads of the healthy.
ENGLISH_QUOTE = 'My grandmother says "الصحة تاج على رؤوس الأصحاء" and she is right.'
REPLIES = (PLAIN, NAME_NUMBER, URL, NHS, URDU, URDU_MIXED, ENGLISH_QUOTE)

SCRIPT = "arabic-check"
OPTIONS = ("موافق تماماً", "موافق", "غير موافق")  # agree completely, agree, disagree
_SCRIPT = f'''id = "{SCRIPT}"
version = "1.0.0"
title = "البيانات الصحية"
language = "en"
estimated_minutes = 10

[[steps]]
id = "welcome"
kind = "message"
text = """
أهلاً بكم في جلسة عن بيانات NHS الصحية.
- اكتبوا /mydata لتروا ما نحفظه عنكم.
- الجلسة 10 دقائق فقط.
"""

[[steps]]
id = "agree"
kind = "choice"
text = "هل توافق على مشاركة البيانات مع GP؟"
options = {list(OPTIONS)!r}

[[steps]]
id = "thoughts"
kind = "prompt"
text = "ما رأيك؟ اكتب إجابتك."
'''


def arabic_content(root: Path) -> Path:
    """A content root holding the shipped consent and profile and an Arabic script."""
    for folder in ("consent", "profile"):
        if (ROOT / "prompts" / folder).is_dir():
            shutil.copytree(ROOT / "prompts" / folder, root / "prompts" / folder)
    (root / "resources").mkdir(parents=True, exist_ok=True)
    (root / "prompts" / f"{SCRIPT}.toml").write_text(_SCRIPT, encoding="utf-8")
    return root
