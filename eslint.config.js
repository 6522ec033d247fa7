// Flat ESLint config: @eslint/js + typescript-eslint recommended rules,
// with the few adjustments the codebase's deliberate style needs (each says why).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layersPlugin } from './eslint/layers.js';

export default tseslint.config(
  { ignores: ['**/dist/', '**/node_modules/', '**/.hallmark/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a deliberately unused binding: callback
      // parameters a contract requires, and rest-destructuring that drops keys
      // (`const { secret: _s, ...rest } = o`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Control characters in regexes are intentional here: the JUnit writer and
      // the spec verifier strip or split on them (XML-invalid characters, NUL).
      'no-control-regex': 'off',
    },
  },
  // kernel < transports < plugins < pipeline < cli: never import upward.
  { files: ['src/**/*.ts'], plugins: { hallmark: layersPlugin }, rules: { 'hallmark/layers': 'error' } },
);
