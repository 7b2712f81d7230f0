import { readFileSync } from 'node:fs';
import { packageBuild } from '../tools/tsup.js';

const { members } = JSON.parse(readFileSync(new URL('./members.json', import.meta.url), 'utf8')) as {
  members: string[];
};

export default packageBuild({ entry: ['src/index.ts', ...members.map((m) => `src/${m}.ts`)] });
