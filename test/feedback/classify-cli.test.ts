// `envoi feedback classify` as a user runs it on saved messages: one JSON
// line per file, a readable table without --json, a file that cannot be
// read named on stderr and exit code 1, the others still classified.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CORPUS } from '../../bench/feedback-corpus.ts';
import { runEnvoi } from '../helpers/cli.ts';

const bounce = path.join(DEFAULT_CORPUS, 'bounces', 'lhost-exim-02.eml');
const arf = path.join(DEFAULT_CORPUS, 'arf', 'php-bounce-handler-arf3.eml');
const missing = path.join(DEFAULT_CORPUS, 'bounces', 'no-such-file.eml');

test('envoi feedback classify', async () => {
  const json = await runEnvoi({}, ['feedback', 'classify', bounce, missing, arf, '--json']);
  assert.equal(json.code, 1);
  assert.match(json.stderr, /no-such-file\.eml/);
  const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    {
      file: bounce, kind: 'bounce',
      recipients: [
        { address: 'kijitora@example.jp', hard: true, category: 'unknown-user', status: '5.1.1', feedbackType: null },
        { address: 'sabatora@example.jp', hard: true, category: 'unknown-user', status: '5.2.1', feedbackType: null },
      ],
    },
    { file: arf, kind: 'complaint', recipients: [{ address: 'user@example.com', hard: null, category: 'complaint', status: null, feedbackType: 'abuse' }] },
  ]);

  const human = await runEnvoi({}, ['feedback', 'classify', bounce]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^file\s+kind\s+address\s+hard\s+category/);
  assert.match(human.stdout, /kijitora@example\.jp\s+hard\s+unknown-user\s+5\.1\.1/);
});
