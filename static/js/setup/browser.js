/**
 * Which browser this is, and whether the session's video platform supports it. The platform's list comes
 * from the server (GET /api/sessions/{id}/setup: Chrome, Edge, Firefox, Safari by id); browsers built on
 * Chrome's engine but not on the list (Opera, Brave, Samsung Internet, Vivaldi) usually work, so they are
 * "worth a look", not a problem.
 */

// User-agent tokens, the most specific first (Edge and Opera also say "Chrome", Chrome also says "Safari").
const UA_FAMILIES = [
  ['edge', 'Microsoft Edge', /\bEdg(?:e|A|iOS)?\/(\d+)/],
  ['opera', 'Opera', /\b(?:OPR|OPT)\/(\d+)/],
  ['samsung', 'Samsung Internet', /\bSamsungBrowser\/(\d+)/],
  ['vivaldi', 'Vivaldi', /\bVivaldi\/(\d+)/],
  ['firefox', 'Mozilla Firefox', /\b(?:Firefox|FxiOS)\/(\d+)/],
  ['chrome', 'Google Chrome', /\b(?:Chrome|CriOS|HeadlessChrome|Chromium)\/(\d+)/],
  ['safari', 'Safari', /\bVersion\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari\//],
];
const CHROMIUM_BASED = new Set(['opera', 'samsung', 'vivaldi', 'brave']);

function osOf(ua) {
  if (/\b(iPhone|iPad|iPod)\b/.test(ua)) return 'iOS';
  if (/\bAndroid\b/.test(ua)) return 'Android';
  if (/\bWindows\b/.test(ua)) return 'Windows';
  if (/\bMac OS X\b|\bMacintosh\b/.test(ua)) return 'macOS';
  if (/\bCrOS\b/.test(ua)) return 'ChromeOS';
  if (/\bLinux\b/.test(ua)) return 'Linux';
  return '';
}

/** {id, name, version, os, mobile} of the browser reading this (id '' when not recognised). */
export function detectBrowser(nav = window.navigator) {
  const ua = nav.userAgent || '';
  let found = { id: '', name: 'an unrecognised browser', version: '' };
  for (const [id, name, pattern] of UA_FAMILIES) {
    const match = ua.match(pattern);
    if (match) {
      found = { id, name, version: match[1] };
      break;
    }
  }
  // Brave hides in Chrome's user agent and says so only here.
  if (found.id === 'chrome' && nav.brave) found = { ...found, id: 'brave', name: 'Brave' };
  const mobile = Boolean(nav.userAgentData?.mobile) || /\bMobi|\biPad\b|\bAndroid\b/.test(ua);
  return { ...found, os: osOf(ua), mobile };
}

/** What this browser lacks that calls need: the ids of the missing features, each with its words. */
export function missingFeatures(win = window) {
  const missing = [];
  if (!win.isSecureContext) missing.push('secure');
  else if (!win.navigator.mediaDevices?.getUserMedia) missing.push('media');
  if (!(win.AudioContext || win.webkitAudioContext)) missing.push('audio');
  if (!win.RTCPeerConnection) missing.push('webrtc');
  return missing;
}

const FEATURE_WORDS = {
  secure: 'This page was not opened over a secure (https) link, so the browser will not share the microphone or camera.',
  media: 'This browser cannot share a microphone or camera with web pages.',
  audio: 'This browser cannot play sound from web pages.',
  webrtc: 'This browser does not support the calls that video platforms run in the browser (WebRTC).',
};

/**
 * The check's verdict: {result: ok|warn|problem, text, steps}.
 * guide: the server's {platform, browsers: [{id, name}], app, phone}; browser: detectBrowser(); missing: missingFeatures().
 */
export function judgeBrowser(guide, browser, missing) {
  const platformName = guide.platform?.name ?? 'the video platform';
  const names = guide.browsers.map((b) => b.name);
  const listed = guide.browsers.some((b) => b.id === browser.id);
  const what = `${browser.name}${browser.version ? ` ${browser.version}` : ''}${browser.os ? ` on ${browser.os}` : ''}`;
  const useListed = `Use a current version of ${names.join(', ')}.`;
  const phone = browser.mobile && guide.phone ? [guide.phone] : [];

  if (missing.length > 0) {
    const steps = missing.map((m) => FEATURE_WORDS[m]);
    if (missing.includes('secure')) steps.push('Open the link from your invitation again, exactly as it was sent (it starts with https://).');
    else steps.push('Update your browser, or use another one.', useListed);
    return { result: 'problem', text: `${what}: something calls need is missing.`, steps: [...steps, ...phone] };
  }
  if (listed) {
    return { result: 'ok', text: `${what}: supported by ${platformName}.`, steps: [] };
  }
  if (CHROMIUM_BASED.has(browser.id)) {
    return {
      result: 'warn',
      text: `${what}: not on ${platformName}’s list, but built like Chrome, so it usually works.`,
      steps: [`If sound or video does not work in the class, switch browser. ${useListed}`, ...phone],
    };
  }
  return {
    result: 'problem',
    text: `${what}: not supported by ${platformName}.`,
    steps: [useListed, ...phone],
  };
}
