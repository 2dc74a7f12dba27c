"""Scheduling: APScheduler with a persistent job store; due jobs become events."""
