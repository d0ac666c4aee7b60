/** A short two-tone beep with WebAudio, for pages where sound was switched on (browsers need a click first). */

const BEEP_HZ = 880; // a soft A5: noticeable without being shrill
const BEEP_SECONDS = 0.15;
const BEEP_GAP_SECONDS = 0.22; // two short beeps read as "new", not as an error

export function createBeeper() {
  let audio = null;

  function unlock() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (audio === null) audio = new Context();
    if (audio.state === 'suspended') audio.resume();
  }
  document.addEventListener('click', unlock, { once: true });
  document.addEventListener('keydown', unlock, { once: true });

  return {
    unlock,
    /** Beep if the page may make sound yet; answers whether it did. */
    beep() {
      if (audio === null) return false;
      if (audio.state === 'suspended') audio.resume();
      const start = audio.currentTime;
      for (const offset of [0, BEEP_GAP_SECONDS]) {
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        tone.frequency.value = BEEP_HZ;
        gain.gain.setValueAtTime(0.0001, start + offset);
        gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + BEEP_SECONDS);
        tone.connect(gain).connect(audio.destination);
        tone.start(start + offset);
        tone.stop(start + offset + BEEP_SECONDS + 0.05);
      }
      return true;
    },
  };
}
