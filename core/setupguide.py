"""What the participants' setup check tells about each video platform: the browsers it supports, and a
short troubleshooting list to read before the class (no I/O).

Kept beside the catalogue (core/platforms.py) rather than in it: a replaced catalogue (COMPANION_PLATFORMS)
names capacity and features, and a platform it adds that is not known here gets the general guide under its
own name. The texts say only what the platforms' own help pages say, in plain words; menu names are the ones
the platforms show in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.platforms import Platform

# Browser families, by the id the page's browser detection answers (static/js/setup/browser.js).
BROWSERS = {
    "chrome": "Google Chrome",
    "edge": "Microsoft Edge",
    "firefox": "Mozilla Firefox",
    "safari": "Safari",
}
# Every built-in platform's web client supports the current versions of these four (each platform's own
# system requirements page); none supports Internet Explorer.
_ALL = ("chrome", "edge", "firefox", "safari")


@dataclass(frozen=True, slots=True)
class Guide:
    browsers: tuple[str, ...]  # BROWSERS ids, current versions
    app: str | None  # the platform's own app, when it has one
    phone: str  # joining from a phone or tablet
    steps: tuple[str, ...]  # troubleshooting, in the order to try


GENERAL = Guide(
    browsers=_ALL,
    app=None,
    phone="On a phone or tablet, the platform's own app is usually the most reliable way to join.",
    steps=(
        "Open the join link from your invitation a few minutes before the start.",
        "Allow the browser (or the app) to use your microphone and camera when it asks.",
        "Close other programs that use the microphone or camera, such as another call or a camera app.",
        "Use headphones or earphones, so the others do not hear themselves as an echo.",
    ),
)

GUIDES: dict[str, Guide] = {
    "zoom": Guide(
        browsers=_ALL,
        app="Zoom Workplace",
        phone="On a phone or tablet, install the Zoom Workplace app before the class.",
        steps=(
            "Open the join link. If the Zoom Workplace app does not open, choose “Join from your browser” "
            "on the page that opens.",
            "Before the class, join the Zoom test meeting at zoom.us/test to try your microphone, speakers and camera.",
            "In the meeting, use the small arrow next to Mute and Start Video to choose the right microphone, "
            "speaker and camera.",
            "If others cannot hear you, check the microphone icon is not crossed out: click Unmute.",
        ),
    ),
    "teams": Guide(
        browsers=_ALL,
        app="Microsoft Teams",
        phone="On a phone or tablet, install the Microsoft Teams app: Teams does not run in mobile browsers.",
        steps=(
            "Open the join link and choose “Continue on this browser” to join without the app, "
            "or “Join on the Teams app”.",
            "On the screen before you join, switch on your microphone and camera and check the right devices "
            "are chosen.",
            "In the Teams app, Settings → Devices → “Make a test call” checks your microphone and speakers.",
            "If you wait in the lobby, stay: the organiser lets you in.",
        ),
    ),
    "meet": Guide(
        browsers=_ALL,
        app=None,
        phone="On a phone or tablet, the Google Meet app is the most reliable way to join.",
        steps=(
            "Google Meet runs in the browser: on a computer, no app is needed.",
            "On the screen before you join, choose “Check your audio and video” to test your microphone, "
            "speakers and camera.",
            "If Meet cannot use your camera or microphone, click the camera icon in the address bar and allow "
            "access, then reload the page.",
            "If you see “Ask to join”, wait there: the organiser lets you in.",
        ),
    ),
    "bbb": Guide(
        browsers=_ALL,
        app=None,
        phone="BigBlueButton runs in the browser on phones and tablets too: no app is needed.",
        steps=(
            "When BigBlueButton asks how to join the audio, choose Microphone, not “Listen only”.",
            "Allow the browser to use the microphone, then take the echo test: you should hear yourself.",
            "If the echo test is silent, answer No and choose another microphone or speaker from the lists.",
            "Use headphones, so the others do not hear themselves as an echo.",
        ),
    ),
}


def guide_for(platform_id: str | None) -> Guide:
    """The guide of a platform id, or the general one (no platform, "other", or one added by a catalogue)."""
    return GUIDES.get(platform_id or "", GENERAL)


def view(platform: Platform | None) -> dict[str, Any]:
    """What the setup check page reads: the platform, its browsers, the phone advice and the steps."""
    guide = guide_for(platform.id if platform else None)
    return {
        "platform": {"id": platform.id, "name": platform.name} if platform and platform.id != "other" else None,
        "browsers": [{"id": b, "name": BROWSERS[b]} for b in guide.browsers],
        "app": guide.app,
        "phone": guide.phone,
        "troubleshooting": list(guide.steps),
    }
