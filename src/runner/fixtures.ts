import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfraError } from '../errors.js';
import type { FakeMedia } from '../browser/chromium.js';

/** fixtures/ ships with the package, two levels above dist/runner (and src/runner). */
const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

/** The fake microphone and camera files Chromium loops. */
export function fixturePaths(dir = FIXTURES_DIR): FakeMedia {
  const media = { audioFile: join(dir, 'audio.wav'), videoFile: join(dir, 'video.y4m') };
  for (const file of Object.values(media)) {
    if (!existsSync(file)) throw new InfraError(`media fixture missing: ${file}`, 'run `npm run fixtures` to make it again');
  }
  return media;
}
