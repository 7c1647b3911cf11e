/*
 * vmpack/vmpack.h - libvmpack, the whole public API in one include.
 *
 *   vmpack/error.h       status codes, vmp_strerror
 *   vmpack/container.h   value types: config, images, chunks, sections, stats
 *   vmpack/writer.h      make a container (atomic commit)
 *   vmpack/reader.h      open, query, read chunks and sections, verify
 *   vmpack/sign.h        Ed25519 keys, signing
 *   vmpack/x86section.h  the x86 CPU section's encoding
 *   vmpack/x86state.h    the x86 vCPU state (seam with the VMM)
 *   vmpack/profile.h     CPU profiles (CPUID leaves)
 *   vmpack/cpufeat.h     CPUID feature names
 *
 * The format is specified in spec/container.md. The library never prints,
 * exits or reads the environment.
 */
#ifndef VMPACK_VMPACK_H
#define VMPACK_VMPACK_H

#include <vmpack/error.h>
#include <vmpack/container.h>
#include <vmpack/writer.h>
#include <vmpack/reader.h>
#include <vmpack/sign.h>
#include <vmpack/x86section.h>
#include <vmpack/x86state.h>
#include <vmpack/detsection.h>
#include <vmpack/profile.h>
#include <vmpack/cpufeat.h>

#endif
