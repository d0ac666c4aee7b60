/** The categories of technical problems and the self-help steps shown before filing a request. */

export const HELP_TOPICS = [
  {
    category: 'microphone',
    label: 'Microphone',
    steps: [
      'Check you are not muted in the video platform, and on your headset if it has a switch.',
      'In the platform’s audio settings, choose the microphone you are using.',
      'Allow microphone access for your browser or the app in your system’s privacy settings.',
      'Close other programs that may be using the microphone, then leave and rejoin.',
    ],
  },
  {
    category: 'camera',
    label: 'Camera',
    steps: [
      'Check the camera is switched on in the platform and not covered by a privacy shutter.',
      'In the platform’s video settings, choose the right camera.',
      'Allow camera access for your browser or the app in your system’s privacy settings.',
      'Close other programs that may be using the camera (another call, a camera app).',
    ],
  },
  {
    category: 'screen sharing',
    label: 'Screen sharing',
    steps: [
      'Ask in the chat whether participants are allowed to share right now.',
      'On a Mac, allow Screen Recording for your browser or the app (System Settings → Privacy & Security), then restart it.',
      'Share a single window rather than the whole screen.',
      'If the others see a black screen, stop sharing and share again.',
    ],
  },
  {
    category: 'connection',
    label: 'Connection',
    steps: [
      'Turn your camera off to save bandwidth.',
      'Move closer to your Wi-Fi router, or use a cable.',
      'Pause downloads, streaming and other busy tabs.',
      'Leave the meeting and join again.',
    ],
  },
  {
    category: 'cannot join',
    label: 'Cannot join',
    steps: [
      'Use the “Join the class” link on this page.',
      'If the app will not start, try joining in the browser (or the other way round).',
      'Check the countdown above: the meeting may not have started yet.',
      'Restart your browser or the app and try again.',
    ],
  },
];

export function topicOf(category) {
  return HELP_TOPICS.find((topic) => topic.category === category) ?? null;
}
