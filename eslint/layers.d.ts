import type { ESLint, Rule } from 'eslint';
export declare const LAYERS: [name: string, heads: string[]][];
export declare function layerOf(file: string, srcDir: string): number | undefined;
export declare const layersRule: Rule.RuleModule;
export declare const layersPlugin: ESLint.Plugin;
