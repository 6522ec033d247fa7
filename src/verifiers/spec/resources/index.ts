import { retryProblem } from '../retry.js';
import { unsendable } from '../shell.js';
import type { ResourceDef, ResourceSpec } from '../types.js';
import { groupDef, userDef } from './accounts.js';
import { commandDef } from './command.js';
import { fileDef } from './file.js';
import { httpDef } from './http.js';
import { matchingDef } from './matching.js';
import { dnsDef } from './dns.js';
import { addrDef, interfaceDef, portDef } from './network.js';
import { packageDef } from './package.js';
import { serviceDef } from './service.js';
import { kernelParamDef, mountDef, processDef } from './system.js';

/** The first string in the resource's key or options that no shell can carry (a NUL, a lone surrogate), and why. */
export function unsendableValue(r: ResourceSpec): string | undefined {
  const walk = (v: unknown, where: string): string | undefined => {
    if (typeof v === 'string') {
      const bad = unsendable(v);
      return bad && `${where} ${bad}`;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${where}[${i}]`)).find(Boolean);
    if (v && typeof v === 'object') return Object.entries(v).map(([k, x]) => walk(x, `${where}.${k}`)).find(Boolean);
    return undefined;
  };
  return walk(r.key, 'the name') ?? Object.entries(r.options).map(([k, v]) => walk(v, k)).find(Boolean);
}

/** Every type refuses values that cannot reach the target as they are, before its own validation. */
function withValueCheck(d: ResourceDef): ResourceDef {
  return { ...d, validate: (r) => unsendableValue(r) ?? (d.options.includes('retry_count') ? retryProblem(r) : undefined) ?? d.validate?.(r) };
}

/** Every supported gossfile resource type. */
export const RESOURCE_DEFS: Map<string, ResourceDef> = new Map(
  [packageDef, serviceDef, portDef, fileDef, commandDef, userDef, groupDef, kernelParamDef, mountDef, httpDef, processDef, interfaceDef, addrDef, dnsDef, matchingDef]
    .map(withValueCheck)
    .map((d) => [d.type, d]),
);

/** Attributes every resource accepts. */
export const COMMON_ATTRS = ['skip', 'title', 'meta'] as const;
