"""Training logs (.xlsx, .csv): column mapping, reading rows, and writing approved changes back.

- `mapping`: which header holds what, and the sheet's units (never guessed);
- `table`: the file → headers and cells; `values`: cells → SI values and back;
- `rows`: rows → provider activities with identities that survive sorting;
- `compose`: a new row in the sheet's own style; `writer`: backup + atomic replace;
- `config`: the connected sheet, kept in the settings table.

`tracekit.providers.spreadsheet.SpreadsheetProvider` puts these behind the Provider interface.
"""
