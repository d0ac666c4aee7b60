/**
 * The camera check: open the camera and show its picture; "working" once frames arrive, "worth a look"
 * when the picture is nearly black (a privacy shutter, a covered lens). The preview's `data-playing`
 * says frames are shown.
 */

import { show } from '../lib/dom.js';
import { deviceOf, listDevices, stopStream } from './devices.js';
import { mediaFailure } from './media-advice.js';

const FIRST_FRAME_MS = 8_000; // a USB camera can take a few seconds to wake up
const DARK_LUMA = 12; // of 255: darker than a dim room, what a closed shutter or covered lens gives
const DARK_CHECK_MS = 1_500; // auto-exposure needs a moment before a frame says anything

const DARK_STEPS = [
  'Open the camera’s privacy shutter or slider, or take off anything covering the lens.',
  'Some laptops switch the camera off with a key (often with a camera symbol): press it.',
  'Turn on a light in front of you, not behind you.',
];
const NO_FRAMES_STEPS = [
  'Close other programs that may use the camera, then test again.',
  'If several cameras are listed above, choose another one.',
  'Unplug and plug in an external camera, or restart the browser.',
];

/** The mean brightness (0-255) of a small copy of the current frame. */
function brightness(video) {
  const canvas = document.createElement('canvas');
  canvas.width = 32;
  canvas.height = 18;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(video, 0, 0, canvas.width, canvas.height);
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  let sum = 0;
  for (let i = 0; i < data.length; i += 4) sum += 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
  return sum / (data.length / 4);
}

/** elements: {start, stop, deviceField, device, preview}; view: a check view; browser: detectBrowser(). */
export function createCameraCheck(elements, { view, browser, notices }) {
  let stream = null;
  let waiting = null;

  function stop() {
    clearTimeout(waiting);
    stopStream(stream);
    stream = null;
    elements.preview.srcObject = null;
    elements.preview.dataset.playing = 'false';
    show(elements.preview, false);
    show(elements.stop, false);
    elements.start.textContent = view.result === 'idle' ? 'Test camera' : 'Test camera again';
  }

  function playing(name) {
    clearTimeout(waiting);
    const { videoWidth: width, videoHeight: height } = elements.preview;
    elements.preview.dataset.playing = 'true';
    view.set('ok', `The picture arrives${name}: ${width}×${height}.`);
    notices.announce('Camera working: the picture arrives.');
    setTimeout(() => {
      if (!stream || elements.preview.readyState < 2) return;
      if (brightness(elements.preview) < DARK_LUMA) {
        view.set('warn', `The picture is almost black${name}.`, DARK_STEPS);
      }
    }, DARK_CHECK_MS);
  }

  async function start(deviceId = '') {
    stop();
    if (!navigator.mediaDevices?.getUserMedia) {
      view.set('problem', 'This browser cannot use a camera on this page.', [
        'Open the link from your invitation again, exactly as sent (it starts with https://), in a current browser.',
      ]);
      return;
    }
    view.set('running', 'Waiting for the browser to allow the camera…');
    elements.start.disabled = true;
    try {
      const video = deviceId ? { deviceId: { exact: deviceId } } : { width: { ideal: 640 }, height: { ideal: 360 } };
      stream = await navigator.mediaDevices.getUserMedia({ video });
    } catch (err) {
      const failure = mediaFailure(err, 'camera', browser);
      view.set('problem', failure.text, failure.steps);
      elements.start.textContent = 'Test camera again';
      return;
    } finally {
      elements.start.disabled = false;
    }
    const track = stream.getVideoTracks()[0];
    const name = track?.label ? ` (${track.label})` : '';
    track?.addEventListener('ended', () => {
      stop();
      view.set('problem', 'The camera stopped (unplugged, or taken by another program).', NO_FRAMES_STEPS);
    });
    show(elements.preview, true);
    show(elements.stop, true);
    elements.preview.addEventListener('playing', () => playing(name), { once: true });
    elements.preview.srcObject = stream;
    waiting = setTimeout(() => {
      view.set('problem', `The camera opened but sends no picture${name}.`, NO_FRAMES_STEPS);
    }, FIRST_FRAME_MS);
    view.set('running', `Starting the camera${name}…`);
    try {
      await elements.preview.play();
    } catch (err) {
      console.info('companion: preview did not start playing', err);
    }
    await listDevices({ select: elements.device, field: elements.deviceField, kind: 'videoinput', current: deviceOf(stream) });
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
