/** A table or column name as a quoted SQL identifier (the registry's names are plain words). */
export const q = (name: string) => `"${name}"`;
