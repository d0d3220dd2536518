/** The path of a request URL: what the logs may show of it (a query string may hold anything). */
export const urlPath = (url: string): string => url.split('?', 1)[0];
