/**
 * The microphone check: open the microphone, show its level on a meter, and say "working" as soon as a
 * sound gets through, or "no signal" after a while of silence. The meter's `data-peak` keeps the highest
 * level seen (0..1).
 */

import { show } from '../lib/dom.js';
import { deviceOf, listDevices, stopStream } from './devices.js';
import { mediaFailure, SILENT_MICROPHONE } from './media-advice.js';

const SAMPLE_MS = 100; // the meter's refresh: smooth enough to see speech, cheap enough for old laptops
const SILENCE_MS = 8_000; // this long without sound is "no signal": long enough to say a sentence
const FLOOR_DB = -60; // quieter than a quiet room's noise through a laptop microphone: the meter's zero
const HEARD_LEVEL = 0.3; // -42 dBFS: above room noise, below normal speech at arm's length

/** elements: {section, start, stop, deviceField, device, meterField, meter}; view: a check view; browser: detectBrowser(). */
export function createMicrophoneCheck(elements, { view, browser, notices }) {
  let stream = null;
  let audio = null;
  let timer = null;
  let peak = 0;
  let startedAt = 0;

  function level(analyser, buffer) {
    analyser.getFloatTimeDomainData(buffer);
    let sum = 0;
    for (const x of buffer) sum += x * x;
    const rms = Math.sqrt(sum / buffer.length);
    const db = rms > 0 ? 20 * Math.log10(rms) : FLOOR_DB;
    return Math.min(1, Math.max(0, (db - FLOOR_DB) / -FLOOR_DB));
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    stopStream(stream);
    stream = null;
    if (audio) audio.close().catch(() => {});
    audio = null;
    elements.meter.value = 0;
    elements.meter.textContent = '0%';
    show(elements.stop, false);
    elements.start.textContent = view.result === 'idle' ? 'Test microphone' : 'Test microphone again';
  }

  async function start(deviceId = '') {
    stop();
    if (!navigator.mediaDevices?.getUserMedia) {
      view.set('problem', 'This browser cannot use a microphone on this page.', [
        'Open the link from your invitation again, exactly as sent (it starts with https://), in a current browser.',
      ]);
      return;
    }
    view.set('running', 'Waiting for the browser to allow the microphone…');
    elements.start.disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: deviceId ? { deviceId: { exact: deviceId } } : true });
    } catch (err) {
      const failure = mediaFailure(err, 'microphone', browser);
      view.set('problem', failure.text, failure.steps);
      elements.start.textContent = 'Test microphone again';
      return;
    } finally {
      elements.start.disabled = false;
    }
    const Context = window.AudioContext || window.webkitAudioContext;
    audio = new Context();
    if (audio.state === 'suspended') await audio.resume();
    const analyser = audio.createAnalyser();
    analyser.fftSize = 1024;
    audio.createMediaStreamSource(stream).connect(analyser);
    const buffer = new Float32Array(analyser.fftSize);
    peak = 0;
    startedAt = performance.now();
    elements.meter.dataset.peak = '0';
    show(elements.meterField, true);
    show(elements.stop, true);
    const track = stream.getAudioTracks()[0];
    track?.addEventListener('ended', () => {
      stop();
      view.set('problem', 'The microphone stopped (unplugged, or taken by another program).', SILENT_MICROPHONE);
    });
    await listDevices({ select: elements.device, field: elements.deviceField, kind: 'audioinput', current: deviceOf(stream) });
    const name = track?.label ? ` (${track.label})` : '';
    view.set('running', `Listening${name}: say a few words.`);

    timer = setInterval(() => {
      const now = level(analyser, buffer);
      elements.meter.value = now;
      elements.meter.textContent = `${Math.round(now * 100)}%`;
      if (now > peak) {
        peak = now;
        elements.meter.dataset.peak = peak.toFixed(3);
      }
      if (peak >= HEARD_LEVEL && view.result !== 'ok') {
        view.set('ok', `Sound gets through${name}.`);
        notices.announce('Microphone working: sound gets through.');
      } else if (peak < HEARD_LEVEL && view.result === 'running' && performance.now() - startedAt > SILENCE_MS) {
        view.set('problem', `No sound reached the browser${name}.`, SILENT_MICROPHONE);
      }
    }, SAMPLE_MS);
  }

  elements.start.addEventListener('click', () => start(elements.device.value && stream ? elements.device.value : ''));
  elements.stop.addEventListener('click', () => {
    stop();
    elements.start.focus();
  });
  elements.device.addEventListener('change', () => start(elements.device.value));
  window.addEventListener('pagehide', stop);

  return { stop };
}
