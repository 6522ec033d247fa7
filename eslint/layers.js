// The layer rule: no module imports one from a higher layer
// (kernel < transports < plugins < pipeline < cli/library). A small local rule
// rather than no-restricted-imports patterns: it resolves each relative
// specifier to the file it names, which regexes over "../.." cannot do exactly.
import path from 'node:path';

/** Layers from the bottom up; a path's layer is its first segment under src/. */
export const LAYERS = [
  ['kernel', ['kernel']],
  ['transports', ['transports']],
  ['plugins', ['drivers', 'provisioners', 'verifiers', 'config', 'plugins.ts', 'builtin-plugins.ts', 'transport-plugins.ts']],
  ['pipeline', ['pipeline']],
  ['cli', ['cli', 'index.ts']],
];

const rank = new Map(LAYERS.flatMap(([, heads], i) => heads.map((h) => [h, i])));

/** The layer index of a file under `srcDir`, or undefined outside it. */
export function layerOf(file, srcDir) {
  const rel = path.relative(srcDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const head = rel.split(path.sep)[0].replace(/\.js$/, '.ts');
  return rank.get(head);
}

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'a module imports only from its own layer or the layers below it' },
    schema: [{ type: 'object', properties: { srcDir: { type: 'string' } }, additionalProperties: false }],
    messages: { upward: '{{from}} (layer {{fromLayer}}) must not import {{to}} (layer {{toLayer}}): layers are {{order}}' },
  },
  create(context) {
    const srcDir = context.options[0]?.srcDir ?? path.join(context.cwd, 'src');
    const file = context.filename;
    const from = layerOf(file, srcDir);
    if (from === undefined || file.endsWith('.test.ts')) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source);
      const to = layerOf(target, srcDir);
      if (to === undefined || to <= from) return;
      context.report({
        node,
        messageId: 'upward',
        data: {
          from: path.relative(srcDir, file),
          fromLayer: LAYERS[from][0],
          to: path.relative(srcDir, target),
          toLayer: LAYERS[to][0],
          order: LAYERS.map(([n]) => n).join(' < '),
        },
      });
    };
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};

export const layersPlugin = { rules: { layers: layersRule } };
