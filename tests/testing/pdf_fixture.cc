#include "tests/testing/pdf_fixture.h"

#include <cairo-pdf.h>
#include <cairo.h>

#include <sstream>

namespace ingest::testing {

void WritePdf(const std::filesystem::path& path, const std::vector<std::string>& pages,
              const std::vector<OutlineEntry>& outline) {
  cairo_surface_t* surface = cairo_pdf_surface_create(path.c_str(), 595, 842);
  cairo_t* cr = cairo_create(surface);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 11);
  // Outline ids of the most recent entry per level, to nest children.
  std::vector<int> parents = {CAIRO_PDF_OUTLINE_ROOT};
  for (const OutlineEntry& e : outline) {
    parents.resize(static_cast<size_t>(e.level));
    int id = cairo_pdf_surface_add_outline(surface, parents.back(), e.title.c_str(),
                                           ("page=" + std::to_string(e.page)).c_str(), CAIRO_PDF_OUTLINE_FLAG_OPEN);
    parents.push_back(id);
  }
  for (const std::string& page : pages) {
    std::istringstream lines(page);
    std::string line;
    double y = 60;
    while (std::getline(lines, line)) {
      cairo_move_to(cr, 50, y);
      cairo_show_text(cr, line.c_str());
      y += 16;
    }
    cairo_show_page(cr);
  }
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  cairo_surface_destroy(surface);
}

}  // namespace ingest::testing
