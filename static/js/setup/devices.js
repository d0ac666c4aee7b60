/** Shared by the microphone and camera checks: open a device, list the others, stop it again. */

import { h, show } from '../lib/dom.js';

/** Stop every track of a stream (the browser's "in use" light goes out). */
export function stopStream(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/**
 * Fill a device <select> with the devices of this kind (labels are known once permission is given),
 * the one in use selected; its field shows only when there is a choice.
 */
export async function listDevices({ select, field, kind, current }) {
  let devices = [];
  try {
    devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === kind && d.deviceId);
  } catch (err) {
    console.info('companion: devices not listed', err);
  }
  select.replaceChildren(...devices.map((d, i) => h('option', {
    value: d.deviceId,
    text: d.label || `${kind === 'audioinput' ? 'Microphone' : 'Camera'} ${i + 1}`,
    selected: d.deviceId === current,
  })));
  show(field, devices.length > 1);
}

/** The device id a stream's first track of this kind reads from. */
export function deviceOf(stream) {
  return stream?.getTracks()[0]?.getSettings?.().deviceId ?? '';
}
