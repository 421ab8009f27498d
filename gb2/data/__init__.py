"""Data logic: Belle II names, dataset search and listing, file metadata, replication,
removal, storage elements, transfers and downloads, output registration, checksums."""
