"""`exercise --format moodle|qti`: a variant set as a learning platform's quiz.

The structure is checked against the platforms' documented formats — Moodle's question XML
(docs.moodle.org, "Moodle XML format": <quiz>, <question type="…">, <name><text>,
<questiontext format="html"><text><![CDATA[…]]>, <generalfeedback>) and its Embedded answers
(Cloze) syntax ({1:NUMERICAL:=answer:tolerance~=…}: `=` full marks, `~` between answers, an
absolute tolerance; numbers as Moodle's parser reads them, qtype_multianswer's NUMBER_REGEX);
IMS QTI 1.2 as Canvas imports it (imsmanifest.xml with imsqti_xmlv1p2 resources; items with
a `question_type` field, numerical_question answers as vargte/varlte ranges). Every key is
computed here, by hand from the variant's drawn numbers: the lecture network's forward and
backward pass written out, the circuit's f = (x + y)·z and its gradients.
"""

from __future__ import annotations

import csv
import html
import io
import math
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml
from conftest import GRAPHS, NETWORKS
from node_parsers import check as katex_check

from backtrace_cli.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CLOZE = re.compile(r"\{(\d+):NUMERICAL:([^{}]*)\}")
# qtype_multianswer's NUMBER_REGEX: what a Cloze answer and its tolerance must look like
MOODLE_NUMBER = re.compile(r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)")
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"


# ---------------------------------------------------------------- keys, by hand


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def lecture_key(cfg: dict) -> dict[str, float]:
    """The 2-2-1 sigmoid network's step, as the course notes work it (δ = −∂E/∂net)."""
    (x1, x2), (t,), eta, w = cfg["inputs"], cfg["targets"], cfg["learning_rate"], cfg["weights"]
    k = {"net3": w["w13"] * x1 + w["w23"] * x2, "net4": w["w14"] * x1 + w["w24"] * x2}
    k["o3"], k["o4"] = sigmoid(k["net3"]), sigmoid(k["net4"])
    k["net5"] = w["w35"] * k["o3"] + w["w45"] * k["o4"]
    k["o5"] = sigmoid(k["net5"])
    k["e5"] = t - k["o5"]
    k["E"] = 0.5 * k["e5"] ** 2
    k["delta5"] = k["o5"] * (1 - k["o5"]) * k["e5"]
    k["delta3"] = k["o3"] * (1 - k["o3"]) * w["w35"] * k["delta5"]
    k["delta4"] = k["o4"] * (1 - k["o4"]) * w["w45"] * k["delta5"]
    for source, unit, value in (
        ("3", "5", k["o3"]),
        ("4", "5", k["o4"]),
        ("1", "3", x1),
        ("2", "3", x2),
        ("1", "4", x1),
        ("2", "4", x2),
    ):
        name = f"{source}{unit}"
        k[f"dw{name}"] = eta * k[f"delta{unit}"] * value
        k[f"w{name}"] = w[f"w{name}"] + k[f"dw{name}"]
    return k


def circuit_key(cfg: dict) -> dict[str, float]:
    """f = (x + y)·z: q = x + y; ∂f/∂q = z, ∂f/∂z = q, and add hands ∂f/∂q on to x and y."""
    x, y, z = (cfg["inputs"][n] for n in "xyz")
    q = x + y
    return {"q": q, "f": q * z, "df/dq": z, "df/dz": q, "df/dx": z, "df/dy": z}


def half_unit_3sf(value: float) -> float:
    """Half a unit in the third significant figure of `value` as written at 3 s.f."""
    shown = float(f"{value:.3g}")
    return 0.5 * 10 ** (math.floor(math.log10(abs(shown))) - 2)


def configs(runner, tmp_path, source: str, count: int, seed: int, *ask: str) -> dict[str, dict]:
    """The variants' drawn numbers, from the folder the same command writes (their configs
    hold what the problem gives, none of the key)."""
    folder = tmp_path / "folder"
    args = ["exercise", source, "--variants", str(count), "--seed", str(seed), "-o", str(folder)]
    result = runner.invoke(cli, [*args, *ask])
    assert result.exit_code == 0, result.output
    return {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted((folder / "configs").glob("*.yaml"))
    }


def write(runner, tmp_path, source: str, fmt: str, count: int, seed: int, *extra: str) -> Path:
    out = tmp_path / f"bank.{'xml' if fmt == 'moodle' else 'zip'}"
    args = ["exercise", source, "--variants", str(count), "--seed", str(seed)]
    result = runner.invoke(cli, [*args, "--format", fmt, "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


# ---------------------------------------------------------------- Moodle XML


def moodle_questions(text: str) -> list[dict]:
    """Each Cloze question of a Moodle XML file, checked against the format as it is read."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>')
    root = ET.fromstring(text)
    assert root.tag == "quiz"
    category, *questions = root.findall("question")
    assert category.get("type") == "category"
    assert category.findtext("category/text").startswith("$course$/")
    out = []
    for q in questions:
        assert q.get("type") == "multianswer"
        assert q.find("questiontext").get("format") == "html"
        assert q.find("generalfeedback").get("format") == "html"
        name, body = q.findtext("name/text"), q.findtext("questiontext/text")
        feedback = q.findtext("generalfeedback/text")
        assert name and body and feedback
        out.append({"name": name, "text": body, "feedback": feedback, "id": q.findtext("idnumber")})
    # the HTML travels in CDATA, as Moodle's docs ask
    assert text.count('<questiontext format="html"><text><![CDATA[') == len(questions)
    assert text.count('<generalfeedback format="html"><text><![CDATA[') == len(questions)
    return out


def blanks(body: str) -> list[tuple[str, list[tuple[float, float]]]]:
    """(answers-file name, [(answer, tolerance)]) per Cloze blank, from the table rows that
    hold them: the name's cell, then the blank's."""
    rows = re.findall(r"<code>([^<]+)</code></td><td>(\{[^{}]*NUMERICAL[^{}]*\})</td>", body)
    assert len(rows) == len(CLOZE.findall(body)) > 0
    # where Moodle's parser starts a sub-question ({marks:TYPE:), and nowhere else: the TeX's
    # own braces ({1}{2}, _{3}) never read as one
    assert len(re.findall(r"\{[0-9]*:[A-Z_]+:", body)) == len(rows)
    out = []
    for name, cloze in rows:
        marks, alternatives = CLOZE.fullmatch(cloze).groups()
        assert marks == "1"
        accepted = []
        for alternative in alternatives.split("~"):
            assert alternative.startswith("="), alternative  # full marks
            answer, tolerance = alternative[1:].split(":")
            assert MOODLE_NUMBER.fullmatch(answer) and MOODLE_NUMBER.fullmatch(tolerance)
            accepted.append((float(answer), float(tolerance)))
        out.append((html.unescape(name), accepted))
    return out


def within(key: float, answer: float, tolerance: float) -> bool:
    return abs(answer - key) <= tolerance * (1 + 1e-9)


def test_a_moodle_bank_of_the_lecture_network_keys_every_blank(runner, tmp_path):
    drawn = configs(runner, tmp_path, "lecture", 3, 7)
    text = write(runner, tmp_path, "lecture", "moodle", 3, 7).read_text(encoding="utf-8")
    questions = moodle_questions(text)
    assert [q["id"] for q in questions] == list(drawn)
    for q in questions:
        key = lecture_key(drawn[q["id"]])
        found = blanks(q["text"])
        assert sorted(name for name, _ in found) == sorted(key)  # every quantity, once
        for name, accepted in found:
            answer, tolerance = accepted[0]  # the key at 3 s.f., ± half a unit there
            assert within(key[name], answer, tolerance), (q["id"], name, key[name], accepted)
            assert tolerance == pytest.approx(half_unit_3sf(key[name]), rel=1e-9), name
            # rounding as you go: a few units off at most, never the exact key again
            for other, other_tolerance in accepted[1:]:
                assert other != answer and abs(other - key[name]) < 10 * tolerance, name
                assert other_tolerance == pytest.approx(half_unit_3sf(other), rel=1e-9)
        assert "3 significant figures" in q["text"]


def test_every_variant_is_its_own_question(runner, tmp_path):
    text = write(runner, tmp_path, "lecture", "moodle", 6, 3).read_text(encoding="utf-8")
    questions = moodle_questions(text)
    assert len(questions) == 6
    assert len({tuple(CLOZE.findall(q["text"])) for q in questions}) == 6
    assert len({q["name"] for q in questions}) == len({q["id"] for q in questions}) == 6


def numbers_outside_blanks(body: str) -> list[float]:
    """Every decimal number the question shows, its Cloze markup taken out (a unicode minus
    read as one)."""
    shown = html.unescape(CLOZE.sub(" ", body)).replace("−", "-")
    return [float(n) for n in re.findall(r"-?\d+\.\d+", shown)]


def givens(cfg: dict) -> list[float]:
    """What the problem gives: every number of the variant's config."""
    found: list[float] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append(float(value))

    walk(cfg)
    return found


@pytest.mark.parametrize(("source", "key"), [("lecture", lecture_key), ("circuit", circuit_key)])
def test_no_number_of_the_key_is_in_a_questions_text(runner, tmp_path, source, key):
    """The answers are only inside the Cloze markup (and the feedback): no shown number
    equals a key value at 3 s.f. or finer, unless the problem gives that number itself."""
    drawn = configs(runner, tmp_path, source, 4, 11)
    text = write(runner, tmp_path, source, "moodle", 4, 11).read_text(encoding="utf-8")
    for q in moodle_questions(text):
        cfg = drawn[q["id"]]
        given = givens(cfg)
        shown = numbers_outside_blanks(q["text"])
        for name, value in key(cfg).items():
            if any(abs(value - g) < 1e-12 for g in given):
                continue  # ∂f/∂x = z: the key is a given number
            leaked = [n for n in shown if within(value, n, half_unit_3sf(value))]
            assert not leaked, (q["id"], name, value, leaked)
        # while the feedback, the worked key, has every one of them
        feedback = html.unescape(q["feedback"]).replace("−", "-")
        for name, value in key(cfg).items():
            assert f"{value:.6f}".rstrip("0").rstrip(".") in feedback, (name, value)


def test_a_graphs_quiz_asks_what_ask_names_and_keys_it(runner, tmp_path):
    ask = ("--ask", "q,f,df/dz")
    drawn = configs(runner, tmp_path, "circuit", 3, 5, *ask)
    text = write(runner, tmp_path, "circuit", "moodle", 3, 5, *ask).read_text(encoding="utf-8")
    for q in moodle_questions(text):
        key = circuit_key(drawn[q["id"]])
        found = blanks(q["text"])
        assert [name for name, _ in found] == ["q", "f", "df/dz"]
        for name, accepted in found:
            assert within(key[name], *accepted[0]), (name, key[name], accepted)


def test_a_textbooks_notation_names_the_blanks_and_keeps_the_keys(runner, tmp_path):
    """Nielsen's z^2_1 and a^2_1 are the lecture's net3 and o3 (the same numbers), his
    δ^3_1 = ∂C/∂z is the lecture's −δ5 (δ = −∂E/∂net), and his Δw^3_11 the lecture's Δw35."""
    drawn = configs(runner, tmp_path, "lecture", 1, 4)
    text = write(runner, tmp_path, "lecture", "moodle", 1, 4, "--notation", "nielsen")
    (q,) = moodle_questions(text.read_text(encoding="utf-8"))
    key = lecture_key(drawn[q["id"]])
    found = dict(blanks(q["text"]))
    assert within(key["net3"], *found["z^2_1"][0]) and within(key["o3"], *found["a^2_1"][0])
    assert within(-key["delta5"], *found["delta^3_1"][0])
    assert within(key["dw35"], *found["dw^3_11"][0])
    assert "\\(z^{2}_{1}\\)" in q["text"]


# ---------------------------------------------------------------- Canvas: QTI 1.2


def test_a_qti_package_holds_a_quiz_a_variant_with_numerical_questions(runner, tmp_path):
    drawn = configs(runner, tmp_path, "circuit", 3, 2)
    data = write(runner, tmp_path, "circuit", "qti", 3, 2).read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    members = {name: ET.fromstring(archive.read(name)) for name in archive.namelist()}
    manifest = members["imsmanifest.xml"]
    assert manifest.tag == f"{CP}manifest"
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    assert [r.get("identifier") for r in resources] == list(drawn)
    for resource in resources:
        assert resource.get("type") == "imsqti_xmlv1p2"
        href = resource.find(f"{CP}file").get("href")
        assert href in members  # the manifest names each assessment the zip holds
        root = members[href]
        assert root.tag == f"{QTI}questestinterop"
        assessment = root.find(f"{QTI}assessment")
        assert assessment.get("ident") == resource.get("identifier")
        items = assessment.findall(f"{QTI}section/{QTI}item")
        kinds = [
            field.findtext(f"{QTI}fieldentry")
            for item in items
            for field in item.iter(f"{QTI}qtimetadatafield")
            if field.findtext(f"{QTI}fieldlabel") == "question_type"
        ]
        assert kinds == ["text_only_question"] + ["numerical_question"] * 6
        key = circuit_key(drawn[resource.get("identifier")])
        for item in items[1:]:
            low = float(item.find(f".//{QTI}respcondition//{QTI}vargte").text)
            high = float(item.find(f".//{QTI}respcondition//{QTI}varlte").text)
            # Canvas's importer reads <or> (the number, or within <and> vargte/varlte) as an
            # exact answer with margin varlte − the number: the number is the middle
            exact = float(
                item.find(f".//{QTI}respcondition/{QTI}conditionvar/{QTI}or/{QTI}varequal").text
            )
            assert high - exact == pytest.approx(exact - low)
            value = key[item.get("title")]
            assert low <= value <= high and high - low == pytest.approx(2 * half_unit_3sf(value)), (
                item.get("title"),
                value,
                low,
                high,
            )
            assert item.find(f".//{QTI}response_str/{QTI}render_fib").get("fibtype") == "Decimal"
        # the worked solution is the last question's general feedback, and only there
        feedback = [item.find(f"{QTI}itemfeedback") for item in items]
        assert [f is not None for f in feedback] == [False] * 6 + [True]
        prompt = items[0].findtext(f".//{QTI}mattext")
        shown = numbers_outside_blanks(prompt)
        for name, value in key.items():
            if all(abs(value - g) > 1e-12 for g in givens(drawn[resource.get("identifier")])):
                assert not [n for n in shown if within(value, n, half_unit_3sf(value))], name


# ---------------------------------------------------------------- every model, every format


@pytest.mark.parametrize("source", [n for n in NETWORKS + GRAPHS if n != "dropout256"])
def test_every_model_makes_both_files_and_its_math_is_katex(runner, tmp_path, source):
    """dropout256 draws no fair variant at the default range (`exercise` says so) — the
    same for every format. Any loss is in the band: the first fair draw is the variant (the
    band's pilot draws are `exercise`'s own tests'; here only what the formats write)."""
    band = ("--loss-band", "0,1e6")
    text = write(runner, tmp_path, source, "moodle", 1, 1, *band).read_text(encoding="utf-8")
    (question,) = moodle_questions(text)
    assert blanks(question["text"])
    math_found = []
    for part in (question["text"], question["feedback"]):
        math_found += [(html.unescape(t), False) for t in re.findall(r"\\\((.*?)\\\)", part)]
        math_found += [(html.unescape(t), True) for t in re.findall(r"\\\[(.*?)\\\]", part, re.S)]
    assert math_found
    assert katex_check(math_found, [])["math"] == []
    data = write(runner, tmp_path, source, "qti", 1, 1, *band).read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in archive.namelist():
        ET.fromstring(archive.read(name))


# ---------------------------------------------------------------- the command


def test_bad_combinations_are_refused_before_anything_is_written(runner, tmp_path):
    cases = [
        (["--round", "3sf", "-o", str(tmp_path / "d")], "--round: only with --format"),
        (["--format", "qti"], "-o FILE.zip"),
        (["--format", "folder", "-o", "-"], "-o DIR"),
        (["--format", "moodle", "--round", "fine"], "--round"),
    ]
    for extra, said in cases:
        result = runner.invoke(cli, ["exercise", "lecture", "--variants", "1", *extra])
        assert result.exit_code == 2 and said in result.output, result.output
        assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_needs_force_and_is_written_whole(runner, tmp_path):
    target = tmp_path / "bank.xml"
    target.write_text("mine", encoding="utf-8")
    args = ["exercise", "circuit", "--variants", "1", "--format", "moodle", "-o", str(target)]
    refused = runner.invoke(cli, args)
    assert refused.exit_code == 2 and "--force" in refused.output
    assert target.read_text(encoding="utf-8") == "mine"
    assert runner.invoke(cli, [*args, "--force"]).exit_code == 0
    moodle_questions(target.read_text(encoding="utf-8"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank.xml"]  # no temporary left


def test_moodle_xml_goes_to_stdout_without_o(runner):
    result = runner.invoke(cli, ["exercise", "circuit", "--variants", "2", "--format", "moodle"])
    assert result.exit_code == 0
    assert len(moodle_questions(result.output)) == 2


def test_the_same_seed_gives_the_same_bytes(runner, tmp_path):
    made = []
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        made.append(write(runner, tmp_path / sub, "circuit", "qti", 2, 9).read_bytes())
    assert made[0] == made[1]


def test_a_configs_own_words_reach_both_files_as_text(runner, tmp_path):
    """A hostile `name:` (markup, a CDATA end, an ampersand) is shown, never run or broken."""
    source = (ROOT / "configs" / "circuit.yaml").read_text(encoding="utf-8")
    hostile = "<script>alert(1)</script> ]]> & co"
    config = tmp_path / "My Net.yaml"
    config.write_text(re.sub(r"(?m)^name:.*$", f"name: {hostile!r}", source), encoding="utf-8")
    text = write(runner, tmp_path, str(config), "moodle", 1, 0).read_text(encoding="utf-8")
    (q,) = moodle_questions(text)
    for part in (q["text"], q["feedback"]):  # HTML: its markup escaped
        assert "<script" not in part
    assert "&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; &amp; co" in q["text"]
    assert q["name"].startswith(hostile)  # the name is plain text: Moodle shows it as such
    archive = zipfile.ZipFile(write(runner, tmp_path, str(config), "qti", 1, 0))
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    assert re.fullmatch(r"[A-Za-z0-9_-]+", manifest.get("identifier"))
    for member in archive.namelist():
        for mattext in ET.fromstring(archive.read(member)).iter(f"{QTI}mattext"):
            assert "<script" not in mattext.text


# ---------------------------------------------------------------- docs/platforms.md


def section(title: str) -> str:
    text = (ROOT / "docs" / "platforms.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def commands(title: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", section(title), re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def run_all(runner, lines: list[str]) -> None:
    for line in lines:
        assert line.startswith("backtrace "), line
        result = runner.invoke(cli, line.split()[1:])
        assert result.exit_code in (0, 1), (line, result.output)  # check: 1 = not all right


def test_the_moodle_recipe_writes_what_it_says(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = commands("Moodle")
    assert len(lines) == 2
    run_all(runner, lines)
    questions = moodle_questions(Path("lecture-bank.xml").read_text(encoding="utf-8"))
    assert len(questions) == 30 and questions[0]["id"] == "lecture-s7-v01"
    assert "<text>$course$/top/lecture-s7</text>" in Path("lecture-bank.xml").read_text()
    # the page's example: v01's o3 and δ4, their keys worked by hand from its drawn numbers
    drawn = configs(runner, tmp_path, "lecture", 1, 7)["lecture-s7-v01"]
    key = lecture_key(drawn)
    assert round(key["o3"], 6) == 0.567093 and f"{key['delta4']:.3g}" == "0.004"
    found = dict(blanks(questions[0]["text"]))
    assert found["o3"] == [(0.567, 0.0005)]
    assert [a for a, _ in found["delta4"]] == [0.004, 0.00401]
    circuit = moodle_questions(Path("circuit-bank.xml").read_text(encoding="utf-8"))
    assert len(circuit) == 5 and "2 decimal places" in circuit[0]["text"]
    assert all(t == 0.005 for q in circuit for _, a in blanks(q["text"]) for _, t in a)


def test_the_canvas_recipe_writes_a_quiz_a_variant(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = commands("Canvas")
    assert len(lines) == 1
    run_all(runner, lines)
    archive = zipfile.ZipFile("lecture-quizzes.zip")
    assert archive.namelist()[0] == "imsmanifest.xml" and len(archive.namelist()) == 5
    one = ET.fromstring(archive.read("lecture-s7-v01/lecture-s7-v01.xml"))
    assert len(one.findall(f".//{QTI}item")) == 1 + 23  # the text, then 23 quantities


def test_the_combined_recipe_marks_the_quizs_variants(runner, tmp_path, monkeypatch):
    """The folder the same seed writes has the quiz's variants: answers worked by hand for
    v01 from the quiz's own drawn numbers are all right in `check`."""
    monkeypatch.chdir(tmp_path)
    drawn = configs(runner, tmp_path, "lecture", 1, 7)["lecture-s7-v01"]
    key = lecture_key(drawn)
    Path("answers").mkdir()
    answers = {"variant": "lecture-s7-v01", "student": "Ada", "answers": key}
    Path("answers", "ada.yaml").write_text(yaml.safe_dump(answers), encoding="utf-8")
    lines = commands("What a platform quiz cannot do, and what `check` does")
    assert len(lines) == 2
    run_all(runner, lines)
    with open("grades.csv", encoding="utf-8-sig", newline="") as stream:
        (row,) = csv.DictReader(stream)
    assert (row["student"], row["variant"], row["mark"], row["total"]) == (
        "Ada",
        "lecture-s7-v01",
        "23",
        "23",
    )
