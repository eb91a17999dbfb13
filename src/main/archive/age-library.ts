// Loads the age library on first use: most runs never encrypt, and its elliptic-curve code costs ~20 ms and ~20 MB at start-up.
type AgeLibrary = typeof import('age-encryption');

let loading: Promise<AgeLibrary> | null = null;

export function ageLibrary(): Promise<AgeLibrary> {
  loading ??= import('age-encryption');
  return loading;
}
