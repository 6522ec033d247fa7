import { describe, expect, it } from 'vitest';
import { LineBuffer, makeMasker, MASK, PlaybookOutputParser } from './output.js';

describe('makeMasker', () => {
  it('masks secrets as written and JSON-escaped, longest first', () => {
    const mask = makeMasker(['pa"ss', 'pa"ss-long', '']);
    expect(mask('a pa"ss-long b pa"ss c {"x": "pa\\"ss"}')).toBe(`a ${MASK} b ${MASK} c {"x": "${MASK}"}`);
  });
  it('is the identity without secrets', () => {
    expect(makeMasker([])('text')).toBe('text');
  });
});

describe('LineBuffer', () => {
  it('emits whole lines only, so a secret split across chunks is still masked', () => {
    const mask = makeMasker(['topsecret']);
    const got: string[] = [];
    const b = new LineBuffer((t) => got.push(mask(t)));
    b.push('value: top');
    b.push('secret\nnext');
    b.flush();
    expect(got.join('')).toBe(`value: ${MASK}\nnext`);
  });
});

describe('PlaybookOutputParser', () => {
  const run = (text: string) => {
    const p = new PlaybookOutputParser();
    for (const chunk of text.match(/[\s\S]{1,7}/g) ?? []) p.push(chunk);
    p.end();
    return p;
  };

  it('names the failed task and the host message; ignores ignored failures', () => {
    const p = run(
      [
        'TASK [web : Install nginx] *****',
        'fatal: [h1]: FAILED! => {"changed": false, "msg": "ignored one"}',
        '...ignoring',
        'RUNNING HANDLER [web : restart nginx] ***',
        'fatal: [h1]: FAILED! => {"changed": false, "msg": "Unable to restart service nginx", "rc": 1}',
        'PLAY RECAP ***',
        'h1                         : ok=3    changed=1    unreachable=0    failed=1    skipped=0',
      ].join('\n'),
    );
    expect(p.failures).toEqual([{ task: 'web : restart nginx', host: 'h1', message: 'Unable to restart service nginx; rc 1', unreachable: false }]);
    expect(p.summary()).toBe('task "web : restart nginx" failed on host h1: Unable to restart service nginx; rc 1');
    expect(p.recap).toEqual([{ host: 'h1', ok: 3, changed: 1, unreachable: 0, failed: 1 }]);
  });

  it('reads loop item failures, unreachable hosts, command stderr and ERROR! lines', () => {
    const p = run(
      [
        'TASK [pkgs] ***',
        'failed: [h1] (item=nginx) => {"ansible_loop_var": "item", "item": "nginx", "msg": "No package matching"}',
        'TASK [cmd] ***',
        'fatal: [h2]: FAILED! => {"cmd": "x", "msg": "non-zero return code", "rc": 127, "stderr": "sh: x: not found"}',
        'fatal: [h3]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect", "unreachable": true}',
      ].join('\n'),
    );
    expect(p.failures.map((f) => f.message)).toEqual(['item=nginx: No package matching', 'non-zero return code; stderr: sh: x: not found', 'Failed to connect']);
    expect(p.failures[2]!.unreachable).toBe(true);
    expect(run('ERROR! the role \'web\' was not found in ...\n').summary()).toBe("the role 'web' was not found in ...");
  });
});
