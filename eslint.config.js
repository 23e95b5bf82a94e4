// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'bench/results/**', '**/__fixtures__/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: globals.node } },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Front doors never import a concrete provider or storage backend (docs/architecture.md).
    files: ['src/http/**/*.ts', 'src/cli/**/*.ts', 'src/graphql/**/*.ts', 'src/mcp/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/providers/*/*', '!**/providers/spec/*', '!**/providers/shared/*'],
              message: 'Front doors reach providers through app/ and the registry only.',
            },
            {
              group: ['**/storage/sqlite/*', '**/storage/postgres/*', '**/storage/nats/*'],
              message: 'Front doors reach storage through ports only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The core vocabulary imports nothing else from src.
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['../*'], message: 'src/core imports nothing in src.' }] }] },
  },
);
