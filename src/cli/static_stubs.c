/*
 * Link-time stand-ins for the static build (COREPACK_STATIC) only.
 *
 * libarchive's archive_write_set_format.o, which the pax writer needs for
 * one helper, also holds the table of every writer libarchive has, so a
 * static link pulls in all of them.  The xar writer needs libxml2, and a
 * static libxml2 needs ICU (about 30 MB of conversion tables) and makes
 * the link warn about gethostbyname (libxml2's HTTP client).  corepack
 * writes pax and nothing else, so this file defines the xar writer's entry
 * point itself, linked before libarchive.a: the linker then never loads
 * libarchive's xar member, nor libxml2.  Linked into both executables, as
 * the first object after main's.
 */
#include <archive.h>
#include <errno.h>

int archive_write_set_format_xar(struct archive *a);

int archive_write_set_format_xar(struct archive *a)
{
	archive_set_error(a, ENOSYS, "this static build of corepack writes no xar archives");
	return ARCHIVE_FATAL;
}
