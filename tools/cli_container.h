/*
 * cli_container.h - opening containers and key files for the subcommands,
 * and writing JSON strings.
 */
#ifndef VMP_CLI_CONTAINER_H
#define VMP_CLI_CONTAINER_H

#include <stdio.h>

#include <vmpack/reader.h>
#include <vmpack/sign.h>

/* Opens path; on failure prints "vmpack: PATH: why" and returns NULL. */
vmp_reader *cli_open(const char *path);

/* The index of image `arg` (a disk number 0, 1, ... counting disks only,
 * or an image name); prints why and returns -1 if there is none. */
int cli_find_disk(const vmp_reader *r, const char *path, const char *arg, unsigned *image);

/* A public key file; a secret key file is accepted too (its public half).
 * 0, or prints why and returns CLI_FAIL. */
int cli_load_public_key(const char *path, struct vmp_public_key *pk);
int cli_load_secret_key(const char *path, struct vmp_secret_key *sk);

/* 1 if s is valid UTF-8 (RFC 3629), else 0. */
int cli_utf8_valid(const char *s);

/* Writes s as a JSON string literal, with quotes; bytes that are not
 * UTF-8 become U+FFFD. */
void cli_json_str(FILE *f, const char *s);

const char *cli_image_kind(unsigned kind);

#endif
