// Built-in provisioners: each registers its schema and a lazy loader (see src/plugins.ts).
export {};
