"""Providers turn a source (files, a spreadsheet, a web service) into provider records."""
