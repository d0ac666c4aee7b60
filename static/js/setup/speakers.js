/**
 * The speakers check: play a short chime with the Web Audio API, then ask whether it was heard (only the
 * person can tell). The section's `data-played` becomes "true" when the chime has played to its end.
 */

import { show } from '../lib/dom.js';
import { SILENT_SPEAKERS } from './media-advice.js';

// A rising C major triad: pleasant, clearly a test sound, over in about a second and a half.
const NOTES_HZ = [523.25, 659.25, 783.99];
const NOTE_SECONDS = 0.4;
const NOTE_GAP_SECONDS = 0.45;
const VOLUME = 0.3; // loud enough to hear at a low system volume, not startling at a high one
const START_MS = 3_000; // a context that has not started by then is blocked (no sound device, autoplay)

/** elements: {section, play, question, yes, no}; view: a check view. */
export function createSpeakersCheck(elements, { view, notices }) {
  let audio = null;

  function chime(context) {
    const start = context.currentTime + 0.05;
    let last = null;
    NOTES_HZ.forEach((hz, i) => {
      const at = start + i * NOTE_GAP_SECONDS;
      const tone = context.createOscillator();
      const gain = context.createGain();
      tone.type = 'sine';
      tone.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(VOLUME, at + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + NOTE_SECONDS);
      tone.connect(gain).connect(context.destination);
      tone.start(at);
      tone.stop(at + NOTE_SECONDS + 0.05);
      last = tone;
    });
    return new Promise((resolve) => last.addEventListener('ended', resolve, { once: true }));
  }

  async function running(context) {
    if (context.state === 'running') return true;
    const started = context.resume().then(() => true, () => false);
    const late = new Promise((resolve) => setTimeout(() => resolve(false), START_MS));
    return Promise.race([started, late]);
  }

  elements.play.addEventListener('click', async () => {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) {
      view.set('problem', 'This browser cannot play sound from web pages.', ['Use a current version of Chrome, Edge, Firefox or Safari.']);
      return;
    }
    elements.play.disabled = true;
    show(elements.question, false);
    elements.section.dataset.played = 'false';
    view.set('running', 'Playing the test sound…');
    audio ||= new Context();
    if (!(await running(audio))) {
      elements.play.disabled = false;
      view.set('problem', 'The browser did not play the sound.', [
        'Check a speaker or headphones are connected and chosen as the output in the system’s sound settings.',
        'Reload this page and press “Play test sound” again.',
      ]);
      return;
    }
    await chime(audio);
    elements.play.disabled = false;
    elements.play.textContent = 'Play test sound again';
    elements.section.dataset.played = 'true';
    view.set('asking', 'The test sound has played.');
    show(elements.question, true);
    elements.yes.focus();
  });

  elements.yes.addEventListener('click', () => {
    show(elements.question, false);
    view.set('ok', 'You heard the test sound.');
    notices.announce('Speakers working.');
    elements.play.focus();
  });

  elements.no.addEventListener('click', () => {
    show(elements.question, false);
    view.set('problem', 'You did not hear the test sound.', SILENT_SPEAKERS);
    elements.play.focus();
  });
}
