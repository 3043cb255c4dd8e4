/*
 * The part of libclang's C API (clang-c/Index.h, clang-c/CXString.h) that skbdiff's layout checker
 * uses, declared here from the libclang documentation: a fresh machine has the Swift toolchain's
 * libclang.so but no clang-c headers, and SKBLayout loads libclang at run time (dlopen) and casts
 * each dlsym'ed symbol to the function-pointer type below.
 *
 * Every name carries an SKB/skb_ prefix so that these never clash with a real clang-c header.
 * The layouts and signatures must match libclang's C ABI exactly: enums are passed as int (the
 * C type of an enum whose values fit in int), opaque handles as pointers.
 */
#ifndef SKB_CLIBCLANG_H
#define SKB_CLIBCLANG_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Types ---- */

/* CXIndex: an index, a set of translation units (clang_createIndex). */
typedef void *SKBCXIndex;

/* CXTranslationUnit: a parsed source file (pointer to libclang's opaque CXTranslationUnitImpl). */
typedef struct SKBCXTranslationUnitImpl *SKBCXTranslationUnit;

/* CXDiagnostic: one diagnostic of a translation unit. */
typedef void *SKBCXDiagnostic;

/* CXClientData: the caller's context handed back to a visitor. */
typedef void *SKBCXClientData;

/* CXString: a string owned by libclang, read with clang_getCString, freed with clang_disposeString. */
typedef struct {
    const void *data;
    unsigned private_flags;
} SKBCXString;

/* CXCursor: an AST node. kind is an enum CXCursorKind. */
typedef struct {
    int kind;
    int xdata;
    const void *data[3];
} SKBCXCursor;

/* CXType: the type of a cursor. kind is an enum CXTypeKind. */
typedef struct {
    int kind;
    void *data[2];
} SKBCXType;

/* struct CXUnsavedFile: an in-memory file given to clang_parseTranslationUnit (skbdiff passes none). */
typedef struct SKBCXUnsavedFile {
    const char *Filename;
    const char *Contents;
    unsigned long Length;
} SKBCXUnsavedFile;

/* CXCursorVisitor: called by clang_visitChildren for each child; returns an enum CXChildVisitResult
 * (0 break, 1 continue, 2 recurse). */
typedef int (*SKBCXCursorVisitor)(SKBCXCursor cursor, SKBCXCursor parent, SKBCXClientData client_data);

/* ---- Functions: one pointer type each, named after the libclang function ---- */

/* clang_createIndex */
typedef SKBCXIndex (*skb_clang_createIndex_fn)(int excludeDeclarationsFromPCH, int displayDiagnostics);
/* clang_disposeIndex */
typedef void (*skb_clang_disposeIndex_fn)(SKBCXIndex index);
/* clang_parseTranslationUnit */
typedef SKBCXTranslationUnit (*skb_clang_parseTranslationUnit_fn)(SKBCXIndex index, const char *source_filename,
                                                                  const char *const *command_line_args, int num_command_line_args,
                                                                  struct SKBCXUnsavedFile *unsaved_files, unsigned num_unsaved_files,
                                                                  unsigned options);
/* clang_disposeTranslationUnit */
typedef void (*skb_clang_disposeTranslationUnit_fn)(SKBCXTranslationUnit unit);
/* clang_getNumDiagnostics */
typedef unsigned (*skb_clang_getNumDiagnostics_fn)(SKBCXTranslationUnit unit);
/* clang_getDiagnostic */
typedef SKBCXDiagnostic (*skb_clang_getDiagnostic_fn)(SKBCXTranslationUnit unit, unsigned index);
/* clang_disposeDiagnostic */
typedef void (*skb_clang_disposeDiagnostic_fn)(SKBCXDiagnostic diagnostic);
/* clang_getDiagnosticSeverity: returns an enum CXDiagnosticSeverity (0 ignored .. 4 fatal). */
typedef int (*skb_clang_getDiagnosticSeverity_fn)(SKBCXDiagnostic diagnostic);
/* clang_formatDiagnostic */
typedef SKBCXString (*skb_clang_formatDiagnostic_fn)(SKBCXDiagnostic diagnostic, unsigned options);
/* clang_defaultDiagnosticDisplayOptions */
typedef unsigned (*skb_clang_defaultDiagnosticDisplayOptions_fn)(void);
/* clang_getCString */
typedef const char *(*skb_clang_getCString_fn)(SKBCXString string);
/* clang_disposeString */
typedef void (*skb_clang_disposeString_fn)(SKBCXString string);
/* clang_getClangVersion */
typedef SKBCXString (*skb_clang_getClangVersion_fn)(void);
/* clang_getTranslationUnitCursor */
typedef SKBCXCursor (*skb_clang_getTranslationUnitCursor_fn)(SKBCXTranslationUnit unit);
/* clang_visitChildren */
typedef unsigned (*skb_clang_visitChildren_fn)(SKBCXCursor parent, SKBCXCursorVisitor visitor, SKBCXClientData client_data);
/* clang_getCursorSpelling */
typedef SKBCXString (*skb_clang_getCursorSpelling_fn)(SKBCXCursor cursor);
/* clang_getCursorType */
typedef SKBCXType (*skb_clang_getCursorType_fn)(SKBCXCursor cursor);
/* clang_isCursorDefinition */
typedef unsigned (*skb_clang_isCursorDefinition_fn)(SKBCXCursor cursor);
/* clang_Type_getSizeOf: bytes, or a negative enum CXTypeLayoutError. */
typedef long long (*skb_clang_Type_getSizeOf_fn)(SKBCXType type);
/* clang_Type_getAlignOf: bytes, or a negative enum CXTypeLayoutError. */
typedef long long (*skb_clang_Type_getAlignOf_fn)(SKBCXType type);
/* clang_Type_getOffsetOf: bits, or a negative enum CXTypeLayoutError. */
typedef long long (*skb_clang_Type_getOffsetOf_fn)(SKBCXType type, const char *field);
/* clang_Cursor_isBitField */
typedef unsigned (*skb_clang_Cursor_isBitField_fn)(SKBCXCursor cursor);
/* clang_getFieldDeclBitWidth */
typedef int (*skb_clang_getFieldDeclBitWidth_fn)(SKBCXCursor cursor);
/* clang_Cursor_isAnonymousRecordDecl */
typedef unsigned (*skb_clang_Cursor_isAnonymousRecordDecl_fn)(SKBCXCursor cursor);
/* clang_getTypedefDeclUnderlyingType */
typedef SKBCXType (*skb_clang_getTypedefDeclUnderlyingType_fn)(SKBCXCursor cursor);

/* ---- Source locations (the kernel-tree extractor cuts function definitions at their extents) ---- */

/* CXSourceLocation */
typedef struct {
    const void *ptr_data[2];
    unsigned int_data;
} SKBCXSourceLocation;

/* CXSourceRange */
typedef struct {
    const void *ptr_data[2];
    unsigned begin_int_data;
    unsigned end_int_data;
} SKBCXSourceRange;

/* CXFile */
typedef void *SKBCXFile;

/* clang_getCursorExtent */
typedef SKBCXSourceRange (*skb_clang_getCursorExtent_fn)(SKBCXCursor cursor);
/* clang_getRangeStart, clang_getRangeEnd */
typedef SKBCXSourceLocation (*skb_clang_getRangeStart_fn)(SKBCXSourceRange range);
typedef SKBCXSourceLocation (*skb_clang_getRangeEnd_fn)(SKBCXSourceRange range);
/* clang_getFileLocation: where a location is in its file (a macro's expansion site) */
typedef void (*skb_clang_getFileLocation_fn)(SKBCXSourceLocation location, SKBCXFile *file, unsigned *line,
                                             unsigned *column, unsigned *offset);
/* clang_getCursorLocation */
typedef SKBCXSourceLocation (*skb_clang_getCursorLocation_fn)(SKBCXCursor cursor);
/* clang_getFileName */
typedef SKBCXString (*skb_clang_getFileName_fn)(SKBCXFile file);
/* clang_getCursorReferenced: the declaration a reference names (a null cursor otherwise) */
typedef SKBCXCursor (*skb_clang_getCursorReferenced_fn)(SKBCXCursor cursor);
/* clang_getTypeSpelling */
typedef SKBCXString (*skb_clang_getTypeSpelling_fn)(SKBCXType type);

#ifdef __cplusplus
}
#endif

#endif /* SKB_CLIBCLANG_H */
