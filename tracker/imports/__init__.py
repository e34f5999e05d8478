"""导入答复函: upload letters and archives; a background job imports them."""
