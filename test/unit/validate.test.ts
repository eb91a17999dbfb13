// The contract's runtime validators: every request's good and bad args, and a fuzz that only ContractError ever escapes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REQUEST_NAMES, type RequestName } from '../../src/shared/contract.ts';
import { ContractError, LIMITS, validateRequest } from '../../src/shared/validate.ts';

function refused(name: unknown, args: unknown): string {
  try {
    validateRequest(name, args);
  } catch (error) {
    expect(error).toBeInstanceOf(ContractError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${String(name)} ${JSON.stringify(args)}`);
}

const GOOD: [RequestName, unknown][] = [
  ['add', { inputs: ['file_011CNha8iCJcU1wXNR6q4V8w'] }],
  ['add', { inputs: Array.from({ length: LIMITS.inputsMax }, (_, i) => `file_${i}`) }],
  ['add', { inputs: ['x'.repeat(LIMITS.inputLength), 'https://example.com/a b'] }],
  ['pause', { id: 'dl_abc-DEF_123' }],
  ['resume', { id: 'dl_x' }],
  ['cancel', { id: 'dl_x' }],
  ['retry', { id: 'a'.repeat(LIMITS.idLength) }],
  ['pauseAll', {}],
  ['resumeAll', {}],
  ['listDownloads', {}],
  ['listRemote', {}],
  ['listRemote', { cursor: null, limit: 1000 }],
  ['listRemote', { cursor: 'file_011CNha8iCJcU1wXNR6q4V8w', limit: 1 }],
  ['archiveMonths', {}],
  ['archiveFiles', { month: '2025-01' }],
  ['archiveFiles', { month: '1999-12', offset: 0, limit: 10_000, sort: 'size' }],
  ['search', { text: '' }],
  ['search', { text: 'report', month: '2025-06', offset: 50, limit: 100 }],
  ['verify', {}],
  ['verify', { month: '2025-02' }],
  ['getSettings', {}],
  ['setSettings', {}],
  ['setSettings', { apiKey: 'sk-ant-xyz', apiBase: 'https://api.anthropic.com', backupApiBase: null, connections: 32, parallelFiles: 1, requestsPerMinute: 100, limitRate: null, preset: 'cross-border', encrypt: true }],
  ['setSettings', { apiKey: null, backupApiBase: 'http://127.0.0.1:8080/', limitRate: 1024 }],
  // JSON.parse('{"__proto__":…}') makes an own property; an object without a prototype is still a plain object.
  ['getSettings', Object.create(null)],
];

const BAD: [RequestName | string, unknown, RegExp][] = [
  ['nope', {}, /unknown request/],
  ['toString', {}, /unknown request/],
  ['add', undefined, /add args must be an object/],
  ['add', [], /add args must be an object/],
  ['add', new Date(), /plain object/],
  ['add', {}, /add.inputs is required/],
  ['add', { inputs: [] }, /add.inputs must be an array of 1–10000 non-empty strings of at most 2048 characters/],
  ['add', { inputs: 'file_1' }, /add.inputs must be an array/],
  ['add', { inputs: [''] }, /add.inputs/],
  ['add', { inputs: [1] }, /add.inputs/],
  ['add', { inputs: ['x'.repeat(LIMITS.inputLength + 1)] }, /add.inputs/],
  ['add', { inputs: Array.from({ length: LIMITS.inputsMax + 1 }, () => 'f') }, /add.inputs/],
  ['add', { inputs: ['f'], extra: 1 }, /add does not take the field "extra" \(allowed: inputs\)/],
  ['add', JSON.parse('{"inputs":["f"],"__proto__":{"admin":true}}'), /does not take the field "__proto__"/],
  ['pause', {}, /pause.id is required/],
  ['pause', { id: 'dl/../x' }, /pause.id must be a download id/],
  ['resume', { id: '' }, /resume.id must be a download id/],
  ['cancel', { id: 7 }, /cancel.id/],
  ['retry', { id: 'a'.repeat(LIMITS.idLength + 1) }, /retry.id/],
  ['pauseAll', { all: true }, /pauseAll does not take the field "all" \(it takes no fields\)/],
  ['listDownloads', null, /listDownloads args must be an object/],
  ['listRemote', { limit: 0 }, /listRemote.limit must be a whole number from 1 to 1000/],
  ['listRemote', { limit: 1.5 }, /listRemote.limit/],
  ['listRemote', { cursor: 'has space' }, /listRemote.cursor must be 1–512 printable characters without spaces/],
  ['listRemote', { cursor: '' }, /listRemote.cursor/],
  ['archiveFiles', { month: '2025-13' }, /archiveFiles.month must be a month as YYYY-MM/],
  ['archiveFiles', { month: '2025-1' }, /archiveFiles.month/],
  ['archiveFiles', {}, /archiveFiles.month is required/],
  ['archiveFiles', { month: '2025-01', offset: -1 }, /archiveFiles.offset must be a whole number from 0 to 1000000000/],
  ['archiveFiles', { month: '2025-01', limit: 10_001 }, /archiveFiles.limit/],
  ['archiveFiles', { month: '2025-01', offset: Number.NaN }, /archiveFiles.offset/],
  ['archiveFiles', { month: '2025-01', offset: '5' }, /archiveFiles.offset/],
  ['archiveFiles', { month: '2025-01', sort: 'random' }, /archiveFiles.sort must be one of name, downloaded, size/],
  ['search', {}, /search.text is required/],
  ['search', { text: 'x'.repeat(LIMITS.searchLength + 1) }, /search.text must be a string of at most 256 characters/],
  ['search', { text: 'a', month: 'June' }, /search.month/],
  ['search', { text: 'a', sort: 'name' }, /search does not take the field "sort"/],
  ['verify', { month: 202501 }, /verify.month/],
  ['setSettings', { apiKey: 'has space' }, /setSettings.apiKey/],
  ['setSettings', { apiKey: 'k'.repeat(LIMITS.apiKeyLength + 1) }, /setSettings.apiKey/],
  ['setSettings', { apiBase: 'ftp://example.com' }, /setSettings.apiBase must be an http:\/\/ or https:\/\/ URL/],
  ['setSettings', { apiBase: 'https://user:pass@example.com' }, /without user:password/],
  ['setSettings', { apiBase: 'not a url' }, /setSettings.apiBase/],
  ['setSettings', { apiBase: null }, /setSettings.apiBase/],
  ['setSettings', { backupApiBase: 'javascript:alert(1)' }, /setSettings.backupApiBase/],
  ['setSettings', { connections: 33 }, /setSettings.connections must be a whole number from 1 to 32/],
  ['setSettings', { parallelFiles: 0 }, /setSettings.parallelFiles/],
  ['setSettings', { requestsPerMinute: Infinity }, /setSettings.requestsPerMinute/],
  ['setSettings', { limitRate: 1023 }, /setSettings.limitRate/],
  ['setSettings', { preset: 'fast' }, /setSettings.preset must be one of lan, cloud, cross-border/],
  ['setSettings', { encrypt: 'yes' }, /setSettings.encrypt must be true or false/],
  ['setSettings', { dataDir: '/etc' }, /setSettings does not take the field "dataDir"/],
  ['setSettings', { demo: true }, /setSettings does not take the field "demo"/],
];

describe('validateRequest', () => {
  it.each(GOOD)('accepts %s %j', (name, args) => {
    const valid = validateRequest(name, args);
    expect(valid.name).toBe(name);
    expect(valid.args).toEqual({ ...(args as object) });
  });

  it.each(BAD)('refuses %s %j', (name, args, message) => {
    expect(refused(name, args)).toMatch(message);
  });

  it('covers every request of the contract', () => {
    expect(new Set(GOOD.map(([name]) => name))).toEqual(new Set(REQUEST_NAMES));
    expect(new Set(BAD.map(([name]) => name)).size).toBeGreaterThanOrEqual(REQUEST_NAMES.length - 4);
  });

  it('returns fresh args that do not alias the caller’s object or array', () => {
    const inputs = ['file_1'];
    const args = { inputs };
    const valid = validateRequest('add', args);
    expect(valid.args).not.toBe(args);
    expect((valid.args as { inputs: string[] }).inputs).not.toBe(inputs);
  });

  it('refuses accessor properties without running them', () => {
    let ran = false;
    const args = {
      get inputs() {
        ran = true;
        return ['file_1'];
      },
    };
    expect(refused('add', args)).toMatch(/add.inputs must be a plain value/);
    expect(ran).toBe(false);
  });

  it('never echoes a refused value (the API key, a path) into its message', () => {
    expect(refused('setSettings', { apiKey: 'sk-ant-secret value' })).not.toContain('secret');
    expect(refused('pause', { id: '/etc/passwd' })).not.toContain('passwd');
  });
});

/** A shape check that mirrors the contract, written independently of the validator, to catch wrong acceptances. */
function shapeHolds(name: RequestName, args: Record<string, unknown>): boolean {
  const isInt = (value: unknown, min: number, max: number) => typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
  const keys = Object.keys(args);
  const only = (...allowed: string[]) => keys.every((key) => allowed.includes(key));
  switch (name) {
    case 'add':
      return only('inputs') && Array.isArray(args.inputs) && args.inputs.length > 0 && args.inputs.every((input) => typeof input === 'string' && input.length > 0);
    case 'pause': case 'resume': case 'cancel': case 'retry':
      return only('id') && typeof args.id === 'string' && /^[\w-]+$/.test(args.id);
    case 'listRemote':
      return only('cursor', 'limit') && (args.limit === undefined || isInt(args.limit, 1, 1000)) && (args.cursor === undefined || args.cursor === null || typeof args.cursor === 'string');
    case 'archiveFiles':
      return only('month', 'offset', 'limit', 'sort') && typeof args.month === 'string' && /^\d{4}-\d\d$/.test(args.month) && (args.offset === undefined || isInt(args.offset, 0, 1e9));
    case 'search':
      return only('text', 'month', 'offset', 'limit') && typeof args.text === 'string';
    case 'verify':
      return only('month') && (args.month === undefined || typeof args.month === 'string');
    case 'setSettings':
      return only('apiKey', 'apiBase', 'backupApiBase', 'connections', 'parallelFiles', 'requestsPerMinute', 'limitRate', 'preset', 'encrypt')
        && (args.connections === undefined || isInt(args.connections, 1, 32)) && (args.encrypt === undefined || typeof args.encrypt === 'boolean');
    default:
      return keys.length === 0;
  }
}

describe('validateRequest under fuzzing', () => {
  const names = fc.oneof(fc.constantFrom(...REQUEST_NAMES), fc.string(), fc.anything());
  const fieldNames = fc.constantFrom('inputs', 'id', 'cursor', 'limit', 'offset', 'month', 'sort', 'text', 'apiKey', 'apiBase', 'backupApiBase', 'connections', 'parallelFiles', 'requestsPerMinute', 'limitRate', 'preset', 'encrypt', 'extra', '__proto__', 'constructor');
  const values = fc.oneof(
    fc.anything(),
    fc.array(fc.string(), { maxLength: 4 }),
    fc.constantFrom('2025-01', '2025-13', 'dl_abc', 'https://example.com', 'lan', 'size', '', null, 0, 1, -1, 1e9, 1e10, 0.5, Number.NaN, true),
  );
  const args = fc.oneof(fc.anything(), fc.dictionary(fieldNames, values, { maxKeys: 4 }), fc.object());

  it('throws nothing but ContractError, and what it accepts has the contract’s shape', () => {
    let accepted = 0;
    fc.assert(
      fc.property(names, args, (name, raw) => {
        let valid;
        try {
          valid = validateRequest(name, raw);
        } catch (error) {
          return error instanceof ContractError && error.message.length > 0 && error.message.length < 300;
        }
        accepted++;
        return REQUEST_NAMES.includes(valid.name) && shapeHolds(valid.name, valid.args as Record<string, unknown>);
      }),
      { numRuns: 5000 },
    );
    // The generators must reach the accepting paths too, or the shape check proves nothing.
    expect(accepted).toBeGreaterThan(50);
  });
});
