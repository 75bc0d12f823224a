// Flat config: typescript-eslint's recommended rules over the TypeScript sources.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  // docs/api/: the generated API reference (npm run docs:api), git-ignored
  { ignores: ['dist/**', 'node_modules/**', 'docs/api/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // ignoreRestSiblings: `const { ca: _ca, ...rest } = x` is how a property is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
)
