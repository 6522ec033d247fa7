import type { ResourceDef } from '../types.js';
import { groupDef, userDef } from './accounts.js';
import { commandDef } from './command.js';
import { fileDef } from './file.js';
import { httpDef } from './http.js';
import { matchingDef } from './matching.js';
import { addrDef, dnsDef, interfaceDef, portDef } from './network.js';
import { packageDef } from './package.js';
import { serviceDef } from './service.js';
import { kernelParamDef, mountDef, processDef } from './system.js';

/** Every supported gossfile resource type. */
export const RESOURCE_DEFS: Map<string, ResourceDef> = new Map(
  [packageDef, serviceDef, portDef, fileDef, commandDef, userDef, groupDef, kernelParamDef, mountDef, httpDef, processDef, interfaceDef, addrDef, dnsDef, matchingDef].map(
    (d) => [d.type, d],
  ),
);

/** Attributes every resource accepts. */
export const COMMON_ATTRS = ['skip', 'title', 'meta'] as const;
