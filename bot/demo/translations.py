"""Texts of the demo events in more languages, translated from the German notices."""

TRANSLATIONS: dict[str, dict[str, tuple[str, str]]] = {
    "werkstatt-dresden-auftakt": {
        "en": (
            "Kick-off: Workshop of Migrant Organisations Dresden",
            "The DSM invites all migrant organisations from Dresden and the surrounding area, "
            "neighbourhood networks and everyone active in Dresden's community life to the "
            "kick-off of the Workshop of Migrant Organisations (Werkstatt der "
            "Migrant*innenorganisationen). Let's talk about what a good format for exchange would "
            "look like for you, which topics are on your mind and which plans you are taking into "
            "the new year – modelled on the Leipzig Workshop.",
        ),
        "uk": (
            "Старт: Майстерня мігрантських організацій Дрездена",
            "DSM запрошує всі мігрантські організації з Дрездена й околиць, районні мережі та "
            "всіх, хто активно діє в Дрездені, на відкриття Майстерні мігрантських організацій "
            "(Werkstatt der Migrant*innenorganisationen). Поговоримо про те, яким ви уявляєте "
            "вдалий формат обміну досвідом, які теми для вас зараз важливі та з якими планами ви "
            "починаєте новий рік – за прикладом лейпцизької Майстерні.",
        ),
        "ar": (
            "انطلاق: ورشة منظمات المهاجرين في دريسدن",
            "يدعو اتحاد DSM جميع منظمات المهاجرين والمهاجرات في دريسدن وضواحيها، وشبكات الأحياء، "
            "والفاعلين والفاعلات في المدينة إلى الفعالية الافتتاحية لـ«ورشة منظمات المهاجرين» "
            "(Werkstatt der Migrant*innenorganisationen). سنتحدث معًا عن تصوّركم لصيغة ناجحة "
            "لتبادل الخبرات، والمواضيع التي تهمّكم، والخطط التي تبدؤون بها العام الجديد – على "
            "غرار ورشة لايبزيغ.",
        ),
    },
    "konferenz-mo-dresden": {
        "en": (
            "Conference of Migrant Organisations in Dresden",
            "Migrant organisations and the city administration come together to network: a "
            "welcome address by the city's Commissioner for Integration and Foreigners' Affairs, "
            "short talks on cooperation and on the Integration and Foreigners' Advisory Council, "
            "World Cafés on the topics of the Werkstatt discussions, and an evening buffet to "
            "close. Arrival and registration from 11:30 am.",
        ),
        "ru": (
            "Конференция мигрантских организаций в Дрездене",
            "Мигрантские организации и городская администрация налаживают связи: приветственное "
            "слово уполномоченной по вопросам интеграции и делам иностранцев, доклады о "
            "сотрудничестве и о Совете по интеграции и делам иностранцев, World Café по темам "
            "встреч «Мастерской» (Werkstatt), а в завершение – вечерний фуршет. Сбор участников и "
            "регистрация с 11:30.",
        ),
        "fa": (
            "کنفرانس سازمان‌های مهاجران در درسدن",
            "سازمان‌های مهاجران و شهرداری درسدن با هم شبکه‌سازی می‌کنند: سخنان خوشامدگویی مسئول "
            "امور ادغام و اتباع خارجی شهر، ارائه‌هایی دربارهٔ همکاری و دربارهٔ شورای ادغام و "
            "اتباع خارجی، میزگردهای «ورلد کافه» (World Café) دربارهٔ موضوعات گفت‌وگوهای «کارگاه» "
            "(Werkstatt)، و در پایان بوفهٔ شام. ورود و ثبت‌نام از ساعت ۱۱:۳۰.",
        ),
    },
    "psychische-gesundheit": {
        "es": (
            "Ciclo de talleres: salud mental de y para personas migrantes",
            "El proyecto «Bewusst – Gesund – Aktiv» («Consciente – Saludable – Activo: promoción "
            "de la salud para y por personas migrantes») invita a un ciclo de talleres sobre "
            "salud mental, en alemán, español y árabe. ¿Qué ayuda en el día a día? ¿Dónde "
            "encontrar apoyo?",
        ),
        "ar": (
            "سلسلة ورش عمل حول الصحة النفسية: من المهاجرين وللمهاجرين",
            "يدعو مشروع «Bewusst – Gesund – Aktiv» («بوعي – بصحة – بنشاط: تعزيز الصحة للمهاجرين "
            "والمهاجرات وبأيديهم») إلى سلسلة ورش عمل حول الصحة النفسية – باللغات الألمانية "
            "والإسبانية والعربية. ما الذي يساعد في الحياة اليومية؟ وأين يمكن الحصول على الدعم؟",
        ),
    },
    "migrantenbeirat-kandidieren": {
        "en": (
            "Leipzig Migrant Advisory Council: How can I stand for election?",
            "We will tell you about the history, the way of working and the goals of the Leipzig "
            "Migrant Advisory Council (Migrantenbeirat Leipzig). We will also explain in simple "
            "terms how you can stand as a candidate for the council and how the election works. "
            "The meeting is offered in several languages.",
        ),
        "uk": (
            "Рада мігрантів Лейпцига: як висунути свою кандидатуру?",
            "Розповімо про історію, принципи роботи та цілі Ради мігрантів Лейпцига "
            "(Migrantenbeirat Leipzig). А ще простими словами пояснимо, як висунути свою "
            "кандидатуру до Ради мігрантів і як відбуваються вибори. Зустріч проводимо кількома "
            "мовами.",
        ),
        "ru": (
            "Совет мигрантов Лейпцига: как выдвинуть свою кандидатуру?",
            "Мы расскажем об истории, принципах работы и целях Совета мигрантов Лейпцига "
            "(Migrantenbeirat Leipzig). А ещё простыми словами объясним, как выдвинуть свою "
            "кандидатуру в Совет мигрантов и как проходят выборы. Встреча проводится на "
            "нескольких языках.",
        ),
        "ar": (
            "مجلس المهاجرين في لايبزيغ: كيف أترشّح؟",
            "نعرّفكم بتاريخ مجلس المهاجرين في لايبزيغ (Migrantenbeirat Leipzig) وطريقة عمله "
            "وأهدافه. ونشرح لكم أيضًا بكل بساطة كيف يمكن الترشح لعضوية المجلس وكيف تجري "
            "الانتخابات. نقدّم اللقاء بعدة لغات.",
        ),
        "fa": (
            "شورای مهاجران لایپزیگ: چطور می‌توانم نامزد شوم؟",
            "دربارهٔ تاریخچه، شیوهٔ کار و اهداف شورای مهاجران لایپزیگ (Migrantenbeirat Leipzig) "
            "اطلاع‌رسانی می‌کنیم. همچنین به زبان ساده توضیح می‌دهیم که چطور می‌توان برای عضویت در "
            "شورای مهاجران نامزد شد و انتخابات چگونه برگزار می‌شود. این نشست را به چند زبان ارائه "
            "می‌کنیم.",
        ),
    },
    "beratung-anerkennung": {
        "en": (
            "Advice session: recognition of foreign qualifications",
            "Do you have a qualification from abroad? Would you like to work in Saxony, or are "
            "you already working, but below your level of qualification? The IQ Netzwerk Sachsen "
            "answers your questions about recognition, your options in Saxony and funding for "
            "recognition and further training. In cooperation with Kültür Kollektiv Leipzig e. V. "
            "Only a few places for one-to-one consultations.",
        ),
        "uk": (
            "Консультація: визнання іноземних дипломів",
            "Маєте диплом, здобутий за кордоном? Хочете працювати в Саксонії або вже працюєте, "
            "але нижче свого кваліфікаційного рівня? Мережа IQ Netzwerk Sachsen відповість на "
            "ваші запитання щодо визнання, ваших можливостей у Саксонії та фінансування визнання "
            "й підвищення кваліфікації. У співпраці з Kültür Kollektiv Leipzig e. V. Кількість "
            "місць для індивідуальних консультацій обмежена.",
        ),
        "ar": (
            "ساعة استشارات: الاعتراف بالشهادات الأجنبية",
            "هل لديكم شهادة من الخارج؟ هل ترغبون في العمل في ساكسونيا، أو تعملون بالفعل ولكن في "
            "عمل أدنى من مؤهلاتكم؟ تجيب شبكة IQ Netzwerk Sachsen عن أسئلتكم حول الاعتراف "
            "بالشهادات، وفرصكم في ساكسونيا، وتمويل الاعتراف والتأهيل المهني. بالتعاون مع جمعية "
            "Kültür Kollektiv Leipzig e. V. الأماكن المتاحة للاستشارات الفردية قليلة.",
        ),
        "ru": (
            "Консультация: признание иностранных дипломов",
            "У вас есть диплом, полученный за границей? Хотите работать в Саксонии или уже "
            "работаете, но ниже своего уровня квалификации? Сеть IQ Netzwerk Sachsen ответит на "
            "ваши вопросы о признании, о ваших возможностях в Саксонии и о финансировании "
            "признания и повышения квалификации. В сотрудничестве с Kültür Kollektiv Leipzig e. "
            "V. Мест для индивидуальных консультаций немного.",
        ),
    },
    "offener-treff-leipzig": {
        "en": (
            "Open meet-up of the Workshop of Migrant Organisations Leipzig",
            "The Workshop of Migrant Organisations in Leipzig (Werkstatt der "
            "Migrant*innenorganisationen) is a place to meet, exchange ideas, get to know each "
            "other and support one another. Every first Wednesday of the month there is an open "
            "meet-up in the afternoon to talk about current issues.",
        ),
    },
    "lernwerkstatt-finanzierung": {
        "en": (
            "Learning workshop: How do we fund our association?",
            "How can we carry out our work and projects so that they stand on solid ground and "
            "the people involved don't end up paying out of their own pockets? Together we'll "
            "gather the kinds of funding available to associations and initiatives, and work on "
            "concrete funding ideas and project applications.",
        ),
    },
    "jugend-vereinsgruendung": {
        "en": (
            "Workshop for young people: self-organisation and founding an association",
            "The key questions about self-organisation as young, migrantised people in eastern "
            "Germany, and the legal basics of founding an association. For people aged 14 to 27 "
            "with international roots from Saxony, Saxony-Anhalt, Thuringia, Brandenburg and "
            "Mecklenburg-Western Pomerania.",
        ),
    },
    "medienprojekt-kinder-der-erde": {
        "ru": (
            "Медиапроект «Мы – дети Земли»: учимся снимать кино",
            "Приглашаем всех, кому не безразлична судьба нашей планеты и кто хочет научиться "
            "снимать фильмы. Два дня, каждый день с 10:00.",
        ),
        "uk": (
            "Медіапроєкт «Ми – діти Землі»: вчимося знімати кіно",
            "Запрошуємо всіх, кому не байдужа доля нашої планети і хто хоче навчитися знімати "
            "фільми. Два дні, щодня з 10:00.",
        ),
    },
}
