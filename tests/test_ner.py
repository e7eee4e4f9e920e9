"""The CRF recognizer: units, labels, decoding, and the shipped weights on sentences it was not trained on."""

from __future__ import annotations

import importlib.util
import marshal
from pathlib import Path

import pytest

from newsetl import ner
from newsetl.config import Settings
from newsetl.entities import SURNAMES, Extractor
from newsetl.gazetteer import cached

ROOT = Path(__file__).resolve().parent.parent


def test_units_merge_contracted_morphemes_and_split_compounds():
    text = "한·미·일 했다"
    # kiwi gives 한·미·일 as one NNP, and 했 as 하+었 on the same character
    tokens = [(0, 5, "NNP"), (6, 7, "VV"), (6, 7, "EP"), (7, 8, "EF")]
    us = ner.units(text, tokens)
    assert [u.text for u in us] == ["한", "·", "미", "·", "일", "했", "다"]
    assert [u.tag for u in us][:3] == ["NNP", "SP", "NNP"]


def test_units_split_at_cuts():
    us = ner.units("박모씨", [(0, 2, "NNP"), (2, 3, "NNB")], {1})
    assert [u.text for u in us] == ["박", "모", "씨"]


def test_labels_and_decode_round_trip():
    us = ner.units("서울 강남구 역삼동에서", [(0, 2, "NNP"), (3, 6, "NNP"), (7, 10, "NNP"), (10, 12, "JKB")])
    labels = ner.labels_for(us, [(0, 10, "LC")])
    assert labels == ["B-LC", "I-LC", "L-LC", "O"]
    assert ner.decode(us, labels) == [(0, 10, "LC")]


def test_one_unit_names_are_u_labelled_and_adjacent_names_stay_apart():
    us = ner.units("한국 미국", [(0, 2, "NNP"), (3, 5, "NNP")])
    labels = ner.labels_for(us, [(0, 2, "LC"), (3, 5, "LC")])
    assert labels == ["U-LC", "U-LC"]
    assert ner.decode(us, labels) == [(0, 2, "LC"), (3, 5, "LC")]
    # an L closes its name: a following I of the same type starts a new one
    assert ner.decode(us, ["L-LC", "I-LC"]) == [(0, 2, "LC"), (3, 5, "LC")]


def test_decode_starts_a_span_on_a_stray_inside_label():
    us = ner.units("가 나", [(0, 1, "NNP"), (2, 3, "NNP")])
    assert ner.decode(us, ["I-PS", "B-OG"]) == [(0, 1, "PS"), (2, 3, "OG")]


def test_features_carry_gazetteer_and_name_cues():
    text = "김철수 장관"
    us = ner.units(text, [(0, 3, "NNP"), (4, 6, "NNG")])
    f = ner.features(text, us, ["O", "O"], SURNAMES)
    assert "sur" in f[0] and "ntitle" in f[0] and "t=NNP" in f[0]
    assert "g=O" in f[1] and "ptitle" not in f[0]


def test_weights_ship_with_their_license_note():
    assert ner.MODEL_PATH.exists() and ner.MODEL_PATH.stat().st_size < 5_000_000
    readme = (ner.MODEL_PATH.parent / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in readme and "KLUE" in readme


def test_no_weights_means_no_model_spans(tmp_path):
    assert ner.tagger(tmp_path / "missing.crfsuite") is None


@pytest.mark.parametrize("text, span, tag", [
    # written for this test, not from the training data
    ("배우 김하늘 씨가 신작 영화 촬영을 마쳤다.", "김하늘", "PS"),
    ("중앙노동위원회는 이날 조정 회의를 열었다.", "중앙노동위원회", "OG"),
    ("부산 해운대구 우동의 한 아파트에서 불이 났다.", "부산 해운대구 우동", "LC"),
])
def test_model_finds_unlisted_names(text, span, tag):
    extractor = Extractor(cached(str(Settings().reference_dir)))
    sent = extractor.analyse([text])[0]
    got = {(text[s:e], t) for s, e, t, *_ in extractor._crf(sent, extractor._candidates(sent)[1])}
    assert (span, tag) in got


def test_training_script_parses_klue_tags():
    spec = importlib.util.spec_from_file_location("train_ner", ROOT / "scripts" / "train_ner.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text, spans = module.parse("<박:PS>씨가 <서울:LC>에서 <경찰:OG>에 <3일:DT> 체포됐다.")
    assert text == "박씨가 서울에서 경찰에 3일 체포됐다."
    assert spans == [(0, 1, "PS"), (4, 6, "LC"), (9, 11, "OG"), (13, 15, "DT")]


def test_features_give_the_eojeol_stem_and_quotes():
    text = "남양주경찰서는 '런닝맨'을"
    us = ner.units(text, [(0, 3, "NNP"), (3, 6, "NNG"), (6, 7, "JX"), (8, 9, "SSO"), (9, 12, "NNP"), (12, 13, "SSC"),
                          (13, 14, "JKO")])
    f = ner.features(text, us, ["O"] * len(us), SURNAMES)
    assert "es=남양주경찰서" in f[0] and "es2=찰서" in f[0]
    assert "q" in f[4] and "q" not in f[0]


def test_a_country_in_a_sports_report_is_marked_for_the_model():
    text = "한국은 승점 4로 조 1위에 올랐다."
    us = ner.units(text, [(0, 2, "NNP"), (2, 3, "JX"), (4, 6, "NNG"), (7, 8, "SN")])
    f = ner.features(text, us, ["B-CT", "O", "O", "O"], SURNAMES)
    assert "sport" in f[0] and "g=B-CT" in f[0] and "sport" not in f[2]
    calm_text = "한국은 수출 4위에"
    calm_units = ner.units(calm_text, [(0, 2, "NNP"), (2, 3, "JX"), (4, 6, "NNG"), (7, 8, "SN")])
    calm = ner.features(calm_text, calm_units, ["B-CT", "O", "O", "O"], SURNAMES)
    assert "sport" not in calm[0]


def test_word_clusters_of_kiwis_language_model_group_names_of_a_kind():
    table = ner.clusters()
    busan, gwangju, google = table[("부산", "NNP")], table[("광주", "NNP")], table[("구글", "NNP")]
    assert busan[1] == gwangju[1] and busan[1] != google[1]
    text = "부산에서"
    us = ner.units(text, [(0, 2, "NNP"), (2, 4, "JKB")])
    f = ner.features(text, us, ["O", "O"], SURNAMES)
    assert "c9=" + busan[1] in f[0] and "pc6=" + busan[0] in f[1]


def test_a_listed_country_carries_its_particle_and_predicate():
    # 미국이 ... 발표했다: the government acting (KLUE's OG), which the particle and the verb tell
    text = "미국이 이날 제재를 발표했다."
    tokens = [(0, 2, "NNP"), (2, 3, "JKS"), (4, 6, "NNG"), (7, 9, "NNG"), (9, 10, "JKO"), (11, 13, "NNG"),
              (13, 14, "XSV"), (13, 14, "EP"), (14, 15, "EF"), (15, 16, "SF")]
    us = ner.units(text, tokens)
    f = ner.features(text, us, ["B-CT"] + ["O"] * (len(us) - 1), SURNAMES)
    assert "CT|ej=이" in f[0] and "CT|vp=발표" in f[0] and "vp=발표" in f[0]


def test_a_name_shaped_stem_gives_its_given_name_syllables_however_kiwi_cut_it():
    # kiwi reads an unknown name as 이/MM 건/NNG 범/NNG: the stem before the particle is still name-shaped
    text = "이건범 대표가"
    us = ner.units(text, [(0, 1, "MM"), (1, 2, "NNG"), (2, 3, "NNG"), (4, 6, "NNG"), (6, 7, "JKS")])
    f = ner.features(text, us, ["O"] * len(us), SURNAMES)
    for i in range(3):
        assert {"kn3", "kn|nu=3", "gn=건", "gn=범"} <= set(f[i])
    assert not any(x.startswith(("kn", "gn=")) for x in f[3])
    whole = ner.features("장성택을", ner.units("장성택을", [(0, 3, "NNP"), (3, 4, "JKO")]), ["O", "O"], SURNAMES)
    assert {"kn3", "kn|3|JKO", "gn=성", "gn=택", "m1=성"} <= set(whole[0])


def test_contexts_from_kiwis_language_model_place_a_city_apart_from_a_company():
    # the particle after a name is described by the nearest basis morphemes of its context in kiwi's
    # language model: after 부산 and after 광주 the same, after 구글 not
    basis = ner.CONTEXT_PATH.read_text(encoding="utf-8").splitlines()
    assert len(basis) == 64 and all(len(line.split("\t")) == 2 for line in basis)

    def context_of_particle(name: str) -> set[str]:
        text = name + "에서 열렸다"
        us = ner.units(text, [(0, 2, "NNP"), (2, 4, "JKB"), (5, 7, "VV"), (7, 8, "EF")])
        return {x for x in ner.features(text, us, ["O"] * len(us), SURNAMES)[1] if x.startswith("cxa=")}

    busan, gwangju, google = (context_of_particle(n) for n in ("부산", "광주", "구글"))
    assert len(busan) == 3 and busan == gwangju and busan != google


_ANALYSE_AND_TELL = """
import json
from newsetl import analysis, ner
from newsetl.config import Settings

ner.CONTEXT_CACHE_WRITE_STEP = 10  # two sentences' look-ups are worth writing here
read = {"count": 0}
original = ner._read_context_cache


def counting_read():  # what the file held when the analyzer loaded, before any look-up of this process
    original()
    read["count"] = len(ner._context_cache)


ner._read_context_cache = counting_read
texts = [("a", "한국과 미국이 반도체 협력을 강화했다. 안덕근 산업통상자원부 장관이 워싱턴에서 말했다."),
         ("b", "넥스페리아의 경영권을 두고 네덜란드 정부와 중국 윙테크가 맞섰다고 로이터통신이 전했다.")]
_, mentions = analysis.analyse_batch(texts, str(Settings().reference_dir))
print(json.dumps({"mentions": mentions, "read": read["count"], "held": len(ner._context_cache)}))
"""


def _analyse_in_a_new_process(cache: Path) -> dict:
    import json
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _ANALYSE_AND_TELL], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "NEWSETL_CACHE_DIR": str(cache)})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.splitlines()[-1])


def test_context_look_ups_persist_between_processes_and_change_no_mention(tmp_path):
    # a new analysis worker starts from the look-ups an earlier one wrote, instead of computing each again
    first = _analyse_in_a_new_process(tmp_path / "cache")
    assert first["read"] == 0 and first["held"] > 10  # nothing to read; enough computed to be worth writing
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [ner.context_cache_file().name]
    second = _analyse_in_a_new_process(tmp_path / "cache")
    assert second["read"] == second["held"] == first["held"]  # every look-up read, none computed
    assert second["mentions"] == first["mentions"]
    assert {m[4] for m in first["mentions"]} >= {"한국", "미국", "안덕근", "워싱턴", "네덜란드"}


def test_a_context_cache_file_that_does_not_read_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSETL_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(ner, "_context_cache", {})
    monkeypatch.setattr(ner, "_context_cache_stored", 0)
    path = ner.context_cache_file()
    # empty, not marshal, look-ups with more nearest morphemes than a look-up has, not a dict
    for broken in (b"", b"not marshal at all", marshal.dumps({(1, 2): ("3", "4", "5", "6")}), marshal.dumps([1, 2, 3])):
        path.write_bytes(broken)
        ner._read_context_cache()
        assert ner._context_cache == {} and ner._context_cache_stored == 0
