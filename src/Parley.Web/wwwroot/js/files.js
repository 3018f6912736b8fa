// Decrypted files in the page (Session/ChatSession.Files.cs): a blob: URL of the bytes, for an
// image preview and a save link. The type is the sender's only for raster images; anything else
// is application/octet-stream, so that opening it can never run it as a page of this origin.
export function blobUrl(bytes, type) {
  return URL.createObjectURL(new Blob([bytes], { type }));
}
