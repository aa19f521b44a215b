// ingest-pdf-extract: reads one PDF with poppler and writes a PdfExtract
// protobuf to stdout. It runs as a child of the worker under CPU, memory and
// wall-clock limits, so a malformed or hostile PDF can only kill this process.
//
// usage: ingest-pdf-extract [--info] [--first N] [--last M] FILE
// exit: 0 ok, 2 usage, 3 the PDF cannot be opened (corrupt, encrypted)

#include <glib.h>
#include <poppler.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "proto/pdf_extract.pb.h"

namespace {

// Outlines nest; deeper levels than this are flattened to it.
constexpr unsigned kMaxOutlineDepth = 32;
constexpr int kMaxOutlineEntries = 20000;

unsigned ResolvePage(PopplerDocument* doc, PopplerAction* action) {
  if (action == nullptr || action->type != POPPLER_ACTION_GOTO_DEST || action->goto_dest.dest == nullptr) return 0;
  PopplerDest* dest = action->goto_dest.dest;
  if (dest->type != POPPLER_DEST_NAMED) return dest->page_num > 0 ? static_cast<unsigned>(dest->page_num) : 0;
  PopplerDest* named = poppler_document_find_dest(doc, dest->named_dest);
  if (named == nullptr) return 0;
  unsigned page = named->page_num > 0 ? static_cast<unsigned>(named->page_num) : 0;
  poppler_dest_free(named);
  return page;
}

void ReadOutline(PopplerDocument* doc, PopplerIndexIter* iter, unsigned depth, ingest::PdfExtract* out) {
  do {
    if (out->outline_size() >= kMaxOutlineEntries) return;
    PopplerAction* action = poppler_index_iter_get_action(iter);
    if (action != nullptr) {
      const char* title = action->any.title;
      if (title != nullptr && *title != '\0') {
        ingest::PdfOutlineEntry* e = out->add_outline();
        e->set_title(title);
        e->set_level(depth);
        e->set_page(ResolvePage(doc, action));
      }
      poppler_action_free(action);
    }
    PopplerIndexIter* child = poppler_index_iter_get_child(iter);
    if (child != nullptr) {
      ReadOutline(doc, child, depth < kMaxOutlineDepth ? depth + 1 : depth, out);
      poppler_index_iter_free(child);
    }
  } while (poppler_index_iter_next(iter));
}

int Usage() {
  std::fprintf(stderr, "usage: ingest-pdf-extract [--info] [--first N] [--last M] FILE\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool info = false;
  int first = 1;
  int last = 0;
  const char* file = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--info") == 0) {
      info = true;
    } else if (std::strcmp(argv[i], "--first") == 0 && i + 1 < argc) {
      first = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--last") == 0 && i + 1 < argc) {
      last = std::atoi(argv[++i]);
    } else if (file == nullptr && argv[i][0] != '-') {
      file = argv[i];
    } else {
      return Usage();
    }
  }
  if (file == nullptr || first < 1) return Usage();

  GError* error = nullptr;
  gchar* uri = g_filename_to_uri(file, nullptr, &error);
  if (uri == nullptr) {
    std::fprintf(stderr, "%s: %s\n", file, error != nullptr ? error->message : "bad file name");
    return 3;
  }
  PopplerDocument* doc = poppler_document_new_from_file(uri, nullptr, &error);
  g_free(uri);
  if (doc == nullptr) {
    std::fprintf(stderr, "%s\n", error != nullptr ? error->message : "cannot open PDF");
    return 3;
  }

  ingest::PdfExtract out;
  int pages = poppler_document_get_n_pages(doc);
  out.set_page_count(static_cast<uint32_t>(pages));
  if (gchar* title = poppler_document_get_title(doc)) {
    out.set_title(title);
    g_free(title);
  }
  if (PopplerIndexIter* iter = poppler_index_iter_new(doc)) {
    ReadOutline(doc, iter, 1, &out);
    poppler_index_iter_free(iter);
  }
  if (!info) {
    if (last == 0 || last > pages) last = pages;
    out.set_first_page(static_cast<uint32_t>(first));
    for (int p = first; p <= last; ++p) {
      PopplerPage* page = poppler_document_get_page(doc, p - 1);
      std::string* text = out.add_pages();
      if (page == nullptr) continue;
      if (char* t = poppler_page_get_text(page)) {
        text->assign(t);
        g_free(t);
      }
      g_object_unref(page);
    }
  }
  g_object_unref(doc);
  std::string bytes;
  if (!out.SerializeToString(&bytes)) return 3;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(1, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return 3;
    done += static_cast<size_t>(n);
  }
  return 0;
}
