import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { consoleSourceHash } from '../src/console-build';
import { repoRoot } from '../src/paths';

describe("the console build cache's key (a hash of console/ and the lockfile)", () => {
  const probe = join(repoRoot, 'console', `hash-probe-${process.pid}.txt`);
  const builtProbe = join(repoRoot, 'console', '.next', `hash-probe-${process.pid}.txt`);
  afterEach(() => {
    rmSync(probe, { force: true });
    rmSync(builtProbe, { force: true });
  });

  it('changes with a console source and not with its build output', () => {
    const before = consoleSourceHash();
    expect(consoleSourceHash()).toBe(before);
    mkdirSync(join(repoRoot, 'console', '.next'), { recursive: true });
    writeFileSync(builtProbe, 'build output');
    expect(consoleSourceHash()).toBe(before);
    writeFileSync(probe, 'a source');
    const changed = consoleSourceHash();
    expect(changed).not.toBe(before);
    writeFileSync(probe, 'another source');
    expect(consoleSourceHash()).not.toBe(changed);
  });
});
