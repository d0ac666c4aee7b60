/**
 * What to tell someone whose microphone or camera could not be opened, by the error the browser gave
 * (getUserMedia's DOMException names) and the browser they use (detectBrowser's id).
 */

/** How to allow a blocked device in this browser, then in the operating system. */
function allowSteps(device, browserId, os) {
  const Device = device[0].toUpperCase() + device.slice(1);
  const inBrowser = {
    firefox: `Click the crossed-out ${device} icon in the address bar, clear “Blocked”, then test again.`,
    safari: `In the Safari menu, choose “Settings for this website…”, set ${Device} to Allow, then test again.`,
  }[browserId] ?? `Click the icon at the left of the address bar (a padlock or sliders), set ${Device} to Allow, then reload this page and test again.`;
  const inSystem = {
    macOS: `On a Mac: System Settings → Privacy & Security → ${Device}: switch your browser on (then restart the browser).`,
    Windows: `On Windows: Settings → Privacy & security → ${Device}: allow apps, and desktop apps, to use it.`,
    iOS: `On an iPhone or iPad: Settings → your browser → ${Device}: allow it.`,
    Android: `On Android: Settings → Apps → your browser → Permissions → ${Device}: allow it.`,
  }[os];
  return inSystem ? [inBrowser, inSystem] : [inBrowser];
}

/**
 * {text, steps} for a failed getUserMedia. device: 'microphone' | 'camera'.
 * browser: {id, os} from detectBrowser().
 */
export function mediaFailure(error, device, browser) {
  const name = error?.name ?? '';
  if (name === 'NotAllowedError' || name === 'PermissionDeniedError' || name === 'SecurityError') {
    return {
      text: `The browser is not allowed to use your ${device}.`,
      steps: allowSteps(device, browser.id, browser.os),
    };
  }
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') {
    return {
      text: `No ${device} was found.`,
      steps: [
        `Plug in your ${device === 'camera' ? 'camera' : 'headset or microphone'}, or check it is switched on, then test again.`,
        'A Bluetooth headset must be connected to this device first (in the system’s Bluetooth settings).',
      ],
    };
  }
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
    return {
      text: `Your ${device} is in use by another program, or the system blocked it.`,
      steps: [
        `Close other programs that may use the ${device}: another call (Zoom, Teams, Skype), a camera app, other browser tabs.`,
        'Then test again. If it still fails, restart the browser.',
      ],
    };
  }
  return {
    text: `The ${device} could not be started (${name || 'unknown error'}).`,
    steps: ['Reload this page and test again.', 'Still failing? Try another browser, or send the result to support below.'],
  };
}

/** Steps when the microphone gives no signal. */
export const SILENT_MICROPHONE = [
  'Check the microphone is not muted: a switch on the headset or cable, or a mute key on the keyboard.',
  'If several microphones are listed above, choose another one.',
  'Speak normally, close to the microphone; the bar should move.',
  'In the system’s sound settings, check the input volume is not at zero.',
];

/** Steps when the test sound was not heard. */
export const SILENT_SPEAKERS = [
  'Turn the volume up, and check the sound is not muted (a mute key, or the speaker icon of the system).',
  'Check this tab is not muted (a crossed-out speaker on the tab).',
  'Headphones or a Bluetooth headset: check they are plugged in or connected, and chosen as the output in the system’s sound settings.',
  'Then play the test sound again.',
];
